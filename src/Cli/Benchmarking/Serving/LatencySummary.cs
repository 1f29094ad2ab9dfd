namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// Mean and percentiles of one latency (milliseconds). Percentiles interpolate linearly between the closest ranks —
/// the default of numpy.percentile, which vLLM's and SGLang's serving benchmarks report — so the numbers compare.
/// Null fields: no samples (for example TTFT of a non-streaming run, or ITL when every request made one token).
/// </summary>
public sealed record LatencySummary(int Count, double? Mean, double? P50, double? P90, double? P99)
{
    public static readonly LatencySummary Empty = new(0, null, null, null, null);

    public static LatencySummary Of(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        if (sorted.Length == 0) return Empty;
        return new(sorted.Length, sorted.Average(), Percentile(sorted, 50), Percentile(sorted, 90), Percentile(sorted, 99));
    }

    /// <summary>The <paramref name="percent"/>th percentile of ascending <paramref name="sorted"/>: rank p/100·(n−1), interpolated.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percent)
    {
        if (sorted.Count == 0) throw new ArgumentException("no values", nameof(sorted));
        if (percent is < 0 or > 100) throw new ArgumentOutOfRangeException(nameof(percent), percent, "a percentage in [0, 100]");
        double rank = percent / 100 * (sorted.Count - 1);
        int below = (int)Math.Floor(rank);
        int above = Math.Min(below + 1, sorted.Count - 1);
        return sorted[below] + (sorted[above] - sorted[below]) * (rank - below);
    }
}
