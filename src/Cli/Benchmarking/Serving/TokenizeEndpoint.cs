using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// The server's <c>POST /tokenize</c> (vLLM's shape, which PdServe's gateway serves too): text to the served model's
/// token ids, without special tokens. An answer that is not that shape is one clear error that names the way out
/// (<c>--tokenizer DIR</c>, the served model's tokenizer on this machine).
/// </summary>
public static class TokenizeEndpoint
{
    public static async Task<int[]> EncodeAsync(HttpClient http, Uri baseUrl, string model, string? apiKey, string text,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "tokenize"))
        {
            Content = JsonContent.Create(new { model, prompt = text, add_special_tokens = false }),
        };
        if (apiKey is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using HttpResponseMessage response = await http.SendAsync(request, cancellationToken);
        string body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new CliError($"the server's /tokenize answered HTTP {(int)response.StatusCode}; pass --tokenizer DIR with the served model's tokenizer");
        try
        {
            using JsonDocument json = JsonDocument.Parse(body);
            return json.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new CliError($"the server's /tokenize answer is not vLLM's shape ({e.Message}); pass --tokenizer DIR");
        }
    }
}
