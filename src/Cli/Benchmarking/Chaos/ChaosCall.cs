using System.Text;
using System.Text.Json;

namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>
/// Sends one streamed <c>/v1/completions</c> request and classifies how it ended (<see cref="ChaosOutcomeKind"/>),
/// strictly: completed only with a finish reason for every choice, a usage chunk and <c>[DONE]</c>; failed only with an
/// OpenAI error JSON or an SSE error event followed by <c>[DONE]</c>; anything else is lost. Not bench serve's
/// <see cref="Serving.CompletionCall"/>: that one sends a fixed greedy body, keeps the error message without its code,
/// and counts a broken stream and a clean error event alike as "failed".
/// </summary>
public sealed class ChaosCall(HttpClient http, Uri gateway, TimeSpan timeout, Func<double> clock)
{
    private readonly Uri endpoint = new(gateway, "v1/completions");

    public async Task<ChaosOutcome> SendAsync(ChaosRequest request, CancellationToken cancellationToken)
    {
        double started = clock();
        ChaosOutcome Outcome(ChaosOutcomeKind kind, string? detail, string? code = null, int tokens = 0) => new()
        {
            Kind = kind, Poison = request.Poison, ErrorCode = code, Detail = detail, StartedAtSeconds = started, EndedAtSeconds = clock(),
            OutputTokens = tokens,
        };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, endpoint)
            {
                Content = new StringContent(JsonSerializer.Serialize(request.Body), Encoding.UTF8, "application/json"),
            };
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            if (!response.IsSuccessStatusCode)
            {
                string body = await response.Content.ReadAsStringAsync(deadline.Token);
                return ErrorOf(body) is { } error
                    ? Outcome(ChaosOutcomeKind.Failed, $"HTTP {(int)response.StatusCode}: {error.Message}", error.Code)
                    : Outcome(ChaosOutcomeKind.Lost, $"HTTP {(int)response.StatusCode} without an OpenAI error body: {Shorten(body)}");
            }
            await using var stream = await response.Content.ReadAsStreamAsync(deadline.Token);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var finished = new HashSet<int>();
            (string Code, string Message)? errorEvent = null;
            int? completionTokens = null;
            int textChunks = 0;
            while (await reader.ReadLineAsync(deadline.Token) is { } line)
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
                string data = line[5..].Trim();
                if (data == "[DONE]")
                {
                    if (errorEvent is { } e) return Outcome(ChaosOutcomeKind.Failed, $"error event: {e.Message}", e.Code);
                    if (completionTokens is not { } tokens) return Outcome(ChaosOutcomeKind.Lost, "[DONE] without a usage chunk");
                    if (finished.Count < request.Choices)
                        return Outcome(ChaosOutcomeKind.Lost, $"[DONE] with {finished.Count} of {request.Choices} choices finished");
                    return Outcome(ChaosOutcomeKind.Completed, null, tokens: tokens);
                }
                using var chunk = JsonDocument.Parse(data);
                var root = chunk.RootElement;
                if (root.TryGetProperty("error", out var error))
                {
                    errorEvent = Describe(error);
                    continue;
                }
                if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                    completionTokens = usage.GetProperty("completion_tokens").GetInt32();
                if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array) continue;
                foreach (var choice in choices.EnumerateArray())
                {
                    if (choice.TryGetProperty("finish_reason", out var reason) && reason.ValueKind == JsonValueKind.String)
                        finished.Add(choice.GetProperty("index").GetInt32());
                    if (choice.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String && text.GetString()!.Length > 0)
                        textChunks++;
                }
                if (request.CancelAfterChunks is { } after && textChunks >= after && finished.Count < request.Choices)
                    return Outcome(ChaosOutcomeKind.Cancelled, $"cancelled after {textChunks} text chunks");
            }
            return Outcome(ChaosOutcomeKind.Lost, errorEvent is { } last
                ? $"the stream ended after an error event ({last.Code}) without [DONE]"
                : "the stream ended without [DONE]");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Outcome(ChaosOutcomeKind.Lost, $"no complete answer within {timeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return Outcome(ChaosOutcomeKind.Lost, $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>The OpenAI error of an error body: its code (or type when it has none) and message; null when it is not one.</summary>
    private static (string Code, string Message)? ErrorOf(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error)
                   && error.ValueKind == JsonValueKind.Object
                ? Describe(error)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static (string Code, string Message) Describe(JsonElement error)
    {
        string? Field(string name) => error.ValueKind == JsonValueKind.Object && error.TryGetProperty(name, out var value)
                                      && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        return (Field("code") ?? Field("type") ?? "unknown", Field("message") ?? error.ToString());
    }

    private static string Shorten(string text) => text.Length > 200 ? text[..200] + "…" : text;
}
