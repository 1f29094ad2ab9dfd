using System.Text;
using System.Text.Json;

namespace PdServe.Gateway.Tests;

/// <summary>A streaming gateway response read event by event: the JSON chunks, whether [DONE] came, and any error event.</summary>
public sealed class SseStream : IDisposable
{
    private readonly HttpResponseMessage response;
    private readonly StreamReader reader;

    private SseStream(HttpResponseMessage response, StreamReader reader)
    {
        this.response = response;
        this.reader = reader;
    }

    public List<JsonElement> Chunks { get; } = [];
    public bool Done { get; private set; }
    public JsonElement? Error { get; private set; }
    public int Status => (int)response.StatusCode;

    public static async Task<SseStream> OpenAsync(HttpClient http, string path, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return new SseStream(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    /// <summary>Reads the next event; false at the end of the stream.</summary>
    public async Task<bool> NextAsync()
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            string data = line["data: ".Length..];
            if (data == "[DONE]")
            {
                Done = true;
                continue;
            }
            var json = JsonDocument.Parse(data).RootElement.Clone();
            if (json.TryGetProperty("error", out var error)) Error = error;
            else Chunks.Add(json);
            return true;
        }
        return false;
    }

    public async Task ReadToEndAsync()
    {
        while (await NextAsync()) { }
    }

    /// <summary>The completion text of choice 0 so far (completions chunks).</summary>
    public string Text => string.Concat(Chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
        .Select(c => c.TryGetProperty("text", out var t) ? t.GetString() : c.GetProperty("delta").TryGetProperty("content", out var d) ? d.GetString() : ""));

    public string Id => Chunks[0].GetProperty("id").GetString()!;

    public void Dispose()
    {
        reader.Dispose();
        response.Dispose();
    }
}
