using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Tests.Serving;

public sealed class LatencySummaryTests
{
    [Fact]
    public void Percentiles_interpolate_between_closest_ranks()
    {
        // Ranks p/100·(n−1) over [10, 20, 30, 40]: p50 → 1.5 → 25; p90 → 2.7 → 37; p99 → 2.97 → 39.7.
        var summary = LatencySummary.Of([40, 10, 30, 20]);
        Assert.Equal(4, summary.Count);
        Assert.Equal(25.0, summary.Mean!.Value, 9);
        Assert.Equal(25.0, summary.P50!.Value, 9);
        Assert.Equal(37.0, summary.P90!.Value, 9);
        Assert.Equal(39.7, summary.P99!.Value, 9);
    }

    [Fact]
    public void One_to_a_hundred_matches_hand_computed_values()
    {
        // n = 100: p50 rank 49.5 → 50.5; p90 rank 89.1 → 90.1; p99 rank 98.01 → 99.01.
        var summary = LatencySummary.Of(Enumerable.Range(1, 100).Select(i => (double)i).Reverse());
        Assert.Equal(50.5, summary.Mean!.Value, 9);
        Assert.Equal(50.5, summary.P50!.Value, 9);
        Assert.Equal(90.1, summary.P90!.Value, 9);
        Assert.Equal(99.01, summary.P99!.Value, 9);
    }

    [Fact]
    public void A_single_value_is_every_percentile_and_no_values_give_none()
    {
        var one = LatencySummary.Of([7.5]);
        Assert.Equal((7.5, 7.5, 7.5, 7.5), (one.Mean!.Value, one.P50!.Value, one.P90!.Value, one.P99!.Value));
        var none = LatencySummary.Of([]);
        Assert.Equal(0, none.Count);
        Assert.Null(none.P99);
        Assert.Null(none.Mean);
    }

    [Fact]
    public void Percentile_bounds_are_the_extremes_and_out_of_range_is_refused()
    {
        double[] sorted = [1, 2, 4, 8];
        Assert.Equal(1, LatencySummary.Percentile(sorted, 0));
        Assert.Equal(8, LatencySummary.Percentile(sorted, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => LatencySummary.Percentile(sorted, 101));
        Assert.Throws<ArgumentException>(() => LatencySummary.Percentile([], 50));
    }
}
