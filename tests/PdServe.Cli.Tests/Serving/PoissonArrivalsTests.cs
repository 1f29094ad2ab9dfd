using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Tests.Serving;

public sealed class PoissonArrivalsTests
{
    [Theory]
    [InlineData(0.5)]
    [InlineData(5)]
    [InlineData(200)]
    public void Mean_rate_and_exponential_gaps_match_the_asked_rate(double rate)
    {
        const int count = 20_000;
        var offsets = PoissonArrivals.Offsets(rate, count, seed: 3);
        double measured = (count - 1) / offsets[^1].TotalSeconds;
        // The mean of 20,000 exponential gaps is within 1.5% of 1/rate with overwhelming probability (σ ≈ 0.7%).
        Assert.InRange(measured / rate, 0.985, 1.015);
        // Exponential gaps: standard deviation equals the mean.
        double[] gaps = offsets.Zip(offsets.Skip(1), (a, b) => (b - a).TotalSeconds).ToArray();
        double mean = gaps.Average();
        double deviation = Math.Sqrt(gaps.Sum(g => (g - mean) * (g - mean)) / gaps.Length);
        Assert.InRange(deviation / mean, 0.96, 1.04);
        Assert.Equal(TimeSpan.Zero, offsets[0]);
        Assert.True(offsets.Zip(offsets.Skip(1)).All(p => p.Second >= p.First));
    }

    [Fact]
    public void The_same_seed_gives_the_same_times_and_another_seed_other_times()
    {
        Assert.Equal(PoissonArrivals.Offsets(4, 50, 1), PoissonArrivals.Offsets(4, 50, 1));
        Assert.NotEqual(PoissonArrivals.Offsets(4, 50, 1), PoissonArrivals.Offsets(4, 50, 2));
    }

    [Fact]
    public void An_infinite_rate_sends_everything_at_once()
    {
        Assert.All(PoissonArrivals.Offsets(double.PositiveInfinity, 10, 0), offset => Assert.Equal(TimeSpan.Zero, offset));
        Assert.Throws<ArgumentOutOfRangeException>(() => PoissonArrivals.Offsets(0, 10, 0));
    }
}
