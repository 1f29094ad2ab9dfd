using System.Diagnostics;
using System.Text.Json;

namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>
/// Reads the gateway's <c>GET /pools</c> to see when a node leaves its pool (available=false) and when it is back. The
/// gateway resolves each configured node's host, so node <c>decode0</c> appears once per address, as
/// <c>decode0[127.0.0.1]</c>; the node counts as available when every one of its entries is.
/// </summary>
public sealed class PoolWatcher(HttpClient http, Uri gateway)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Whether the gateway lists node <paramref name="node"/> as available now; null when /pools did not answer.</summary>
    public async Task<bool?> IsAvailableAsync(string node, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(gateway, "pools"), cancellationToken);
            if (!response.IsSuccessStatusCode) return null;
            using var pools = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            var entries = pools.RootElement.EnumerateArray()
                .SelectMany(pool => pool.GetProperty("nodes").EnumerateArray())
                .Where(entry => entry.GetProperty("id").GetString() is { } id && (id == node || id.StartsWith(node + "[", StringComparison.Ordinal)))
                .Select(entry => entry.GetProperty("available").GetBoolean())
                .ToList();
            return entries.Count == 0 ? null : entries.All(available => available);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null;
        }
    }

    /// <summary>Seconds until the pool shows <paramref name="node"/> with <paramref name="available"/>; null if not within <paramref name="timeout"/>.</summary>
    public async Task<double?> WaitForAsync(string node, bool available, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (await IsAvailableAsync(node, cancellationToken) == available) return watch.Elapsed.TotalSeconds;
            await Task.Delay(PollInterval, cancellationToken);
        }
        return null;
    }
}
