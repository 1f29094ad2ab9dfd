using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// A window of the rehearsal at one pool size (or the rolling restart): requests completed in it per second, output
/// tokens per second, latencies of the requests sent in it, and the calls each node completed in it (its counters).
/// </summary>
public sealed record ScalePhase
{
    public required string Name { get; init; }
    public required int Prefill { get; init; }
    public required int Decode { get; init; }
    public required double StartSeconds { get; init; }
    public required double EndSeconds { get; init; }
    public required int Completed { get; init; }
    public required int Failed { get; init; }
    public required double RequestsPerSecond { get; init; }
    public required double OutputTokensPerSecond { get; init; }
    public required LatencySummary TtftMs { get; init; }
    public required LatencySummary TpotMs { get; init; }
    public required IReadOnlyDictionary<string, double> CallsPerNode { get; init; }
    /// <summary>Calls the gateway retried on other nodes in the window (<c>pdserve_gateway_retries_total</c>); null when unread.</summary>
    public double? GatewayRetries { get; init; }

    public double Seconds => EndSeconds - StartSeconds;

    /// <summary>The window's figures from every request of the run: those that ended in it count for throughput, those sent in it for latency.</summary>
    public static ScalePhase Of(string name, int prefill, int decode, double start, double end, IReadOnlyList<ScaleRequest> requests,
        IReadOnlyDictionary<string, double> callsPerNode, double? retries)
    {
        var ended = requests.Where(r => r.EndedAtSeconds >= start && r.EndedAtSeconds < end).ToList();
        var ok = ended.Where(r => r.Success).ToList();
        var sent = requests.Where(r => r.Success && r.SentAtSeconds >= start && r.SentAtSeconds < end).ToList();
        double seconds = Math.Max(end - start, 1e-9);
        return new ScalePhase
        {
            Name = name, Prefill = prefill, Decode = decode, StartSeconds = start, EndSeconds = end,
            Completed = ok.Count,
            Failed = ended.Count - ok.Count,
            RequestsPerSecond = ok.Count / seconds,
            OutputTokensPerSecond = ok.Sum(r => (double)r.OutputTokens) / seconds,
            TtftMs = LatencySummary.Of(sent.Where(r => r.TtftMs is not null).Select(r => r.TtftMs!.Value)),
            TpotMs = LatencySummary.Of(sent.Where(r => r.TpotMs is not null).Select(r => r.TpotMs!.Value)),
            CallsPerNode = callsPerNode,
            GatewayRetries = retries,
        };
    }
}
