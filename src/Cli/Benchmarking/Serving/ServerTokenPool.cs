using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// Ordinary token ids of whatever model a server runs, asked of the server itself: its <c>/tokenize</c> (vLLM's
/// shape, which PdServe's gateway serves too) tokenizes a fixed English text without special tokens, and the distinct
/// ids become the pool the random dataset draws from. So <c>bench serve</c> needs no local copy of the server's
/// tokenizer and never sends an id outside the served vocabulary.
/// </summary>
public static class ServerTokenPool
{
    /// <summary>Plain English of many word shapes (written for this purpose); its tokens are ordinary text tokens in any BPE.</summary>
    private const string ProbeText =
        "A serving system takes prompts from many clients at once, computes what each one needs, and streams the answers back. " +
        "Some requests are short questions; others carry long documents, tables of numbers like 3.14, 2048 and 1999, or code " +
        "such as if (x > 0) { return y; }. Operators watch queues, memory, latency and throughput, and they scale machines up " +
        "or down when the weather of traffic changes. Good software keeps working when a node fails: it retries, reports " +
        "honestly, and never loses a request without saying why. Every morning the team reads the figures, compares them with " +
        "yesterday's, and asks which change made the difference. Quick brown foxes jump over lazy dogs; rivers run to the sea; " +
        "children learn to count, to read, and to write their names. Which of these sentences would you keep, and why?";

    public static async Task<int[]> OrdinaryTokenIdsAsync(HttpClient http, Uri baseUrl, string model, string? apiKey,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "tokenize"))
        {
            Content = JsonContent.Create(new { model, prompt = ProbeText, add_special_tokens = false }),
        };
        if (apiKey is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using HttpResponseMessage response = await http.SendAsync(request, cancellationToken);
        string body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new CliError($"the server's /tokenize answered HTTP {(int)response.StatusCode}; pass --tokenizer DIR with the served model's tokenizer");
        try
        {
            using JsonDocument json = JsonDocument.Parse(body);
            int[] ids = json.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).Distinct().Order().ToArray();
            return ids.Length > 0 ? ids : throw new CliError("the server's /tokenize returned no tokens for the probe text");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new CliError($"the server's /tokenize answer is not vLLM's shape ({e.Message}); pass --tokenizer DIR");
        }
    }
}
