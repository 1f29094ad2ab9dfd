using PdServe.Cli.Benchmarking.Serving;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Planning;

/// <summary>
/// One decode node's sustainable output at the TPOT limit, from a <c>bench serve</c> run of a cluster with
/// <see cref="Nodes"/> decode nodes: of the rates without failures whose TPOT at the chosen percentile met the limit,
/// the one with the most output tokens per second; per node, that throughput and the sequences it kept running
/// (Little's law: requests per second × mean decoding time, E2E − TTFT).
/// </summary>
public sealed record DecodeFigures
{
    public required string File { get; init; }
    public required string Command { get; init; }
    public required int Nodes { get; init; }
    public required int BenchInputTokens { get; init; }
    public required int BenchOutputTokens { get; init; }
    public required int Percentile { get; init; }
    public required string Rate { get; init; }
    public required double TpotMs { get; init; }
    /// <summary>Output tokens per second per node at <see cref="Rate"/>.</summary>
    public required double OutputTokensPerSecond { get; init; }
    /// <summary>Sequences decoding at once per node at <see cref="Rate"/> (Little's law).</summary>
    public required double Concurrency { get; init; }
    /// <summary>The chosen rate is the run's highest: a node may sustain more within the limit.</summary>
    public required bool MaybeUnsaturated { get; init; }

    /// <summary>Throws <see cref="CliError"/> when no rate of the run met the limit without failures.</summary>
    public static DecodeFigures From(ServeBenchFile file, int nodes, double tpotLimitMs, int percentile)
    {
        var met = file.Report.Rates
            .Where(r => r.Failed == 0 && r.Completed > 0 && r.DurationSeconds > 0 && At(r.TpotMs, percentile) is { } tpot && tpot <= tpotLimitMs)
            .ToList();
        if (met.Count == 0)
            throw new CliError($"plan-capacity: no rate of {file.Path} kept TPOT p{percentile} within {tpotLimitMs} ms without failures; the decode pool cannot be sized from it");
        var best = met.MaxBy(r => r.OutputTokenThroughput)!;
        double decodingSeconds = ((best.E2elMs.Mean ?? 0) - (best.TtftMs.Mean ?? 0)) / 1000;
        return new DecodeFigures
        {
            File = file.Path,
            Command = file.Report.Command,
            Nodes = nodes,
            BenchInputTokens = file.Report.InputLength,
            BenchOutputTokens = file.Report.OutputLength,
            Percentile = percentile,
            Rate = best.Rate,
            TpotMs = At(best.TpotMs, percentile)!.Value,
            OutputTokensPerSecond = best.OutputTokenThroughput / nodes,
            Concurrency = best.RequestThroughput * Math.Max(0, decodingSeconds) / nodes,
            MaybeUnsaturated = best == file.Report.Rates.MaxBy(r => r.RequestThroughput),
        };
    }

    public static double? At(LatencySummary summary, int percentile) => percentile switch
    {
        50 => summary.P50,
        90 => summary.P90,
        99 => summary.P99,
        _ => throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "50, 90 or 99"),
    };
}
