namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// Request send times of an open-loop load: a Poisson process of <c>rate</c> requests per second (exponential gaps,
/// seeded, so a rerun sends at the same moments), or all at once for an infinite rate.
/// </summary>
public static class PoissonArrivals
{
    /// <summary>Offsets from the start of the run, ascending; the first request goes at 0.</summary>
    public static IReadOnlyList<TimeSpan> Offsets(double requestsPerSecond, int count, int seed)
    {
        if (!(requestsPerSecond > 0)) throw new ArgumentOutOfRangeException(nameof(requestsPerSecond), requestsPerSecond, "a rate > 0");
        var offsets = new TimeSpan[count];
        if (double.IsPositiveInfinity(requestsPerSecond)) return offsets;
        var random = new Random(seed);
        double seconds = 0;
        for (int i = 1; i < count; i++)
        {
            // Inverse transform of U in (0, 1]: never ln(0).
            seconds += -Math.Log(1.0 - random.NextDouble()) / requestsPerSecond;
            offsets[i] = TimeSpan.FromSeconds(seconds);
        }
        return offsets;
    }
}
