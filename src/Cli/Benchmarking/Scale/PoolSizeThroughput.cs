using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>Throughput at one pool size over every steady window the rehearsal held it (the rolling restart not included).</summary>
public sealed record PoolSizeThroughput(int Prefill, int Decode, int Windows, double Seconds, int Completed, int Failed, double RequestsPerSecond,
    double OutputTokensPerSecond, LatencySummary TtftMs, LatencySummary TpotMs)
{
    /// <summary>Grouped by pool size, in the order the sizes were first held; latencies over the requests sent in the windows.</summary>
    public static IReadOnlyList<PoolSizeThroughput> Of(IReadOnlyList<ScalePhase> phases, IReadOnlyList<ScaleRequest> requests) =>
        [.. phases.Where(p => !p.Name.StartsWith(ScaleRunner.RollingRestartPhase, StringComparison.Ordinal))
            .GroupBy(p => (p.Prefill, p.Decode))
            .Select(g =>
            {
                double seconds = g.Sum(p => p.Seconds);
                var sent = requests.Where(r => r.Success && g.Any(p => r.SentAtSeconds >= p.StartSeconds && r.SentAtSeconds < p.EndSeconds)).ToList();
                int completed = g.Sum(p => p.Completed);
                return new PoolSizeThroughput(g.Key.Prefill, g.Key.Decode, g.Count(), seconds, completed, g.Sum(p => p.Failed),
                    completed / Math.Max(seconds, 1e-9), g.Sum(p => p.OutputTokensPerSecond * p.Seconds) / Math.Max(seconds, 1e-9),
                    LatencySummary.Of(sent.Where(r => r.TtftMs is not null).Select(r => r.TtftMs!.Value)),
                    LatencySummary.Of(sent.Where(r => r.TpotMs is not null).Select(r => r.TpotMs!.Value)));
            })];
}
