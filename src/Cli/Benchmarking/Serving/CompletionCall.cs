using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// Sends one <c>/v1/completions</c> request as a benchmark client does and times it. Streaming: TTFT is the first
/// chunk that carries text, ITL the gaps between text chunks, token counts come from the usage chunk
/// (<c>stream_options.include_usage</c>), with the prefix-cache and KV-reuse counts when the server reports them
/// (<see cref="CompletionUsage"/>); the generated text is kept for datasets that continue it. Any HTTP error, error
/// event, missing <c>[DONE]</c> or missing usage is a failure with its reason, never a silent success.
/// </summary>
public sealed class CompletionCall(HttpClient http, Uri baseUrl, string model, string? apiKey, bool stream, bool ignoreEos)
{
    private readonly Uri endpoint = new(baseUrl, "v1/completions");

    public async Task<RequestOutcome> SendAsync(BenchPrompt prompt, double sentAtSeconds, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        double Elapsed() => Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = Body(prompt) };
            if (apiKey is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                string body = await response.Content.ReadAsStringAsync(cancellationToken);
                return RequestOutcome.Failed($"HTTP {(int)response.StatusCode}: {ErrorMessage(body)}", Elapsed(), sentAtSeconds);
            }
            return stream
                ? await ReadStreamAsync(response, Elapsed, sentAtSeconds, cancellationToken)
                : ReadWhole(await response.Content.ReadAsStringAsync(cancellationToken), Elapsed(), sentAtSeconds);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException
                                      || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return RequestOutcome.Failed($"{e.GetType().Name}: {e.Message}", Elapsed(), sentAtSeconds);
        }
    }

    private StringContent Body(BenchPrompt prompt)
    {
        var body = new Dictionary<string, object>
        {
            ["model"] = model,
            ["prompt"] = prompt.PromptField,
            ["max_tokens"] = prompt.MaxTokens,
            // Greedy: the benchmark measures the server, not the sampler's randomness.
            ["temperature"] = 0,
            ["stream"] = stream,
        };
        if (stream) body["stream_options"] = new Dictionary<string, object> { ["include_usage"] = true };
        if (ignoreEos) body["ignore_eos"] = true;
        return new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
    }

    private static async Task<RequestOutcome> ReadStreamAsync(HttpResponseMessage response, Func<double> elapsed, double sentAtSeconds,
        CancellationToken cancellationToken)
    {
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(body, Encoding.UTF8);
        double? ttft = null, lastText = null;
        var itl = new List<double>();
        var text = new StringBuilder();
        JsonElement? usage = null;
        bool done = false;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
            string data = line[5..].Trim();
            if (data == "[DONE]")
            {
                done = true;
                break;
            }
            double now = elapsed();
            using var chunk = JsonDocument.Parse(data);
            var root = chunk.RootElement;
            if (root.TryGetProperty("error", out var error))
                return RequestOutcome.Failed($"error event: {Message(error)}", now, sentAtSeconds);
            if (root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object) usage = u.Clone();
            if (FirstChoiceText(root) is not { Length: > 0 } piece) continue;
            text.Append(piece);
            if (ttft is null) ttft = now;
            else itl.Add(now - lastText!.Value);
            lastText = now;
        }
        double e2el = elapsed();
        if (!done) return RequestOutcome.Failed("the stream ended without data: [DONE]", e2el, sentAtSeconds);
        if (usage is not { } counts) return RequestOutcome.Failed("the stream carried no usage chunk", e2el, sentAtSeconds);
        return Succeeded(counts, text.ToString(), e2el, sentAtSeconds) with { TtftMs = ttft, ItlMs = itl };
    }

    private static RequestOutcome ReadWhole(string body, double e2el, double sentAtSeconds)
    {
        using var document = JsonDocument.Parse(body);
        if (!document.RootElement.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object)
            return RequestOutcome.Failed("the response carried no usage", e2el, sentAtSeconds);
        return Succeeded(usage, FirstChoiceText(document.RootElement) ?? "", e2el, sentAtSeconds);
    }

    /// <summary>A completed request with the server's token counts from its <c>usage</c> object.</summary>
    private static RequestOutcome Succeeded(JsonElement usage, string text, double e2el, double sentAtSeconds)
    {
        var counts = CompletionUsage.Parse(usage);
        return new()
        {
            Success = true,
            PromptTokens = counts.PromptTokens,
            OutputTokens = counts.CompletionTokens,
            CachedTokens = counts.CachedTokens,
            KvTransfer = counts.KvTransfer,
            Text = text,
            E2elMs = e2el,
            SentAtSeconds = sentAtSeconds,
        };
    }

    /// <summary>The text of choice 0 of a response or stream chunk (every request asks for one choice); null when it has none.</summary>
    private static string? FirstChoiceText(JsonElement body)
    {
        if (!body.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array) return null;
        foreach (var choice in choices.EnumerateArray())
        {
            bool first = !choice.TryGetProperty("index", out var index) || index.ValueKind != JsonValueKind.Number || index.GetInt32() == 0;
            if (first && choice.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String) return text.GetString();
        }
        return null;
    }

    private static string ErrorMessage(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.TryGetProperty("error", out var error)) return Message(error);
        }
        catch (JsonException)
        {
        }
        return body.Length > 200 ? body[..200] + "…" : body;
    }

    private static string Message(JsonElement error) =>
        error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var message) ? message.GetString() ?? "" : error.ToString();
}
