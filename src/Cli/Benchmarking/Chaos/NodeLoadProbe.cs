using System.Net;
using System.Text.Json;
using PdServe.NodeHosting;

namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>Reads a node's own <c>GET /load</c> (HTTP/2 without TLS, as the gateway does): its KV fill and queue, first hand.</summary>
public sealed class NodeLoadProbe(HttpClient http)
{
    /// <summary>The node's report; null when it does not answer (down, restarting, too busy within the client's timeout).</summary>
    public async Task<LoadReport?> ReadAsync(string address, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, address + "/load")
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode) return null;
            return JsonSerializer.Deserialize<LoadReport>(await response.Content.ReadAsStringAsync(cancellationToken));
        }
        catch (Exception e) when (e is HttpRequestException or JsonException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null;
        }
    }
}
