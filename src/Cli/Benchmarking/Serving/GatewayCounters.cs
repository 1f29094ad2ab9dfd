using System.Net.Http.Headers;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// The gateway counters a serving run reads before and after (from <c>GET /metrics</c>): KV bytes that a full transfer
/// would have sent and that were sent, and the tokens the gateway counted (to check the client's counts against).
/// Null when the server exposes no such metrics (another server, or metrics turned off).
/// </summary>
public sealed record GatewayCounters(double KvBytesFull, double KvBytesSent, double PromptTokens, double GenerationTokens)
{
    /// <summary>Reads <c>/metrics</c>, sending <paramref name="apiKey"/> as a keyed gateway requires it there too.</summary>
    public static async Task<GatewayCounters?> ReadAsync(HttpClient http, Uri baseUrl, string? apiKey, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUrl, "metrics"));
            if (apiKey is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode) return null;
            text = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException)
        {
            return null;
        }
        double? full = PrometheusText.Sum(text, "pdserve_gateway_kv_transfer_bytes_total", new Dictionary<string, string> { ["kind"] = "full" });
        double? sent = PrometheusText.Sum(text, "pdserve_gateway_kv_transfer_bytes_total", new Dictionary<string, string> { ["kind"] = "sent" });
        double? prompt = PrometheusText.Sum(text, "pdserve_gateway_prompt_tokens_total");
        double? generated = PrometheusText.Sum(text, "pdserve_gateway_generation_tokens_total");
        if (prompt is null && generated is null && full is null) return null;
        // A counter never incremented may be absent from the exposition: that is zero.
        return new GatewayCounters(full ?? 0, sent ?? 0, prompt ?? 0, generated ?? 0);
    }

    public GatewayCounters Minus(GatewayCounters earlier) => new(
        KvBytesFull - earlier.KvBytesFull, KvBytesSent - earlier.KvBytesSent,
        PromptTokens - earlier.PromptTokens, GenerationTokens - earlier.GenerationTokens);
}
