using System.Net;
using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>Reads a node's <see cref="NodeCounters"/> from its <c>GET /metrics</c> on the gRPC port (HTTP/2 without TLS, as the gateway polls).</summary>
public sealed class NodeCounterProbe(HttpClient http)
{
    private static readonly Dictionary<string, string> Ok = new() { ["outcome"] = "ok" };

    /// <summary>The counters now; null when the node does not answer (starting, gone, or busier than the client's timeout).</summary>
    public async Task<NodeCounters?> ReadAsync(string address, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, address + "/metrics")
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode) return null;
            return Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null;
        }
    }

    /// <summary>A counter never incremented may be absent from the exposition: that is zero.</summary>
    public static NodeCounters Parse(string exposition) => new(
        PrometheusText.Sum(exposition, "pdserve_prompt_tokens_total") ?? 0,
        PrometheusText.Sum(exposition, "pdserve_requests_total", Ok) ?? 0);
}
