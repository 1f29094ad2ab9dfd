using PdServe.Cli.Benchmarking.Serving;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Planning;

/// <summary>
/// One prefill node's speed, taken from a <c>bench serve</c> run of a cluster with <see cref="Nodes"/> prefill nodes,
/// as prompt tokens per second μ. Two lower bounds, the larger wins: the most prompt tokens per second any rate without
/// failures carried, per node (a pool that was not saturated could carry more), and a prompt's length over the TTFT p50
/// at the lightest rate (one prompt's prefill takes at most its whole TTFT). What TTFT holds beyond the prefill itself
/// at that rate (gateway, transfer, first token) is the fixed overhead O.
/// </summary>
public sealed record PrefillFigures
{
    public required string File { get; init; }
    public required string Command { get; init; }
    public required int Nodes { get; init; }
    public required int BenchInputTokens { get; init; }
    public required string ThroughputRate { get; init; }
    /// <summary>Prompt tokens per second per node at <see cref="ThroughputRate"/>.</summary>
    public required double ThroughputBound { get; init; }
    public required string LightestRate { get; init; }
    public required double LightestTtftP50Ms { get; init; }
    /// <summary><see cref="BenchInputTokens"/> / TTFT p50 at <see cref="LightestRate"/>, tokens per second.</summary>
    public required double LatencyBound { get; init; }
    /// <summary>Whether the highest rate of the run still had failures = 0: the throughput bound may be well below what a node carries.</summary>
    public required bool ThroughputMaybeUnsaturated { get; init; }

    /// <summary>μ: prompt tokens per second one node processes.</summary>
    public double TokensPerSecond => Math.Max(ThroughputBound, LatencyBound);

    /// <summary>O: TTFT at the lightest rate minus the prefill of its prompt at μ (ms, never below 0).</summary>
    public double OverheadMs => Math.Max(0, LightestTtftP50Ms - BenchInputTokens / TokensPerSecond * 1000);

    /// <summary>Throws <see cref="CliError"/> when the run has no rate without failures or no TTFT (a run without streaming).</summary>
    public static PrefillFigures From(ServeBenchFile file, int nodes)
    {
        var clean = file.Report.Rates.Where(r => r.Failed == 0 && r.Completed > 0 && r.DurationSeconds > 0).ToList();
        if (clean.Count == 0) throw new CliError($"plan-capacity: every rate of {file.Path} had failures; no prefill figure can be taken from it");
        var fastest = clean.MaxBy(r => r.TotalInputTokens / r.DurationSeconds)!;
        var lightest = clean.Where(r => r.TtftMs.P50 is not null).MinBy(r => r.RequestThroughput)
                       ?? throw new CliError($"plan-capacity: {file.Path} has no TTFT (a --no-stream run); prefill needs a streamed run");
        var highest = file.Report.Rates.MaxBy(r => r.RequestThroughput)!;
        double ttft = lightest.TtftMs.P50!.Value;
        return new PrefillFigures
        {
            File = file.Path,
            Command = file.Report.Command,
            Nodes = nodes,
            BenchInputTokens = file.Report.InputLength,
            ThroughputRate = fastest.Rate,
            ThroughputBound = fastest.TotalInputTokens / fastest.DurationSeconds / nodes,
            LightestRate = lightest.Rate,
            LightestTtftP50Ms = ttft,
            LatencyBound = file.Report.InputLength / (ttft / 1000),
            ThroughputMaybeUnsaturated = highest.Failed == 0,
        };
    }
}
