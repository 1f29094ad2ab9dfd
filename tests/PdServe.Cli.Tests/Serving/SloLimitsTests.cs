using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Tests.Serving;

public sealed class SloLimitsTests
{
    private static RequestOutcome Ok(double ttft, double e2el, int tokens) =>
        new() { Success = true, TtftMs = ttft, E2elMs = e2el, OutputTokens = tokens, PromptTokens = 8 };

    [Fact]
    public void Parses_any_subset_of_the_three_limits()
    {
        Assert.Equal(new SloLimits(500, 20, null), SloLimits.Parse("ttft:500,tpot:20"));
        Assert.Equal(new SloLimits(null, null, 1500.5), SloLimits.Parse(" e2el : 1500.5 "));
        Assert.Equal("ttft:500,tpot:20", SloLimits.Parse("tpot:20,ttft:500").ToString());
    }

    [Theory]
    [InlineData("ttft", "not metric:milliseconds")]
    [InlineData("ttft:abc", "not a positive number")]
    [InlineData("ttft:-5", "not a positive number")]
    [InlineData("itl:5", "unknown metric 'itl'")]
    [InlineData("ttft:5,ttft:6", "given twice")]
    public void Refuses_malformed_limits_naming_the_problem(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => SloLimits.Parse(text));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_request_meets_the_slo_only_within_every_limit()
    {
        var slo = new SloLimits(TtftMs: 100, TpotMs: 10, E2elMs: null);
        // TPOT = (E2E − TTFT)/(tokens − 1): (190 − 100)/9 = 10 → meets (limits are inclusive).
        Assert.True(slo.IsMetBy(Ok(ttft: 100, e2el: 190, tokens: 10)));
        Assert.False(slo.IsMetBy(Ok(ttft: 100.5, e2el: 190, tokens: 10)));
        // (200 − 100)/9 = 11.1 ms per token → misses TPOT.
        Assert.False(slo.IsMetBy(Ok(ttft: 100, e2el: 200, tokens: 10)));
        // One token: no TPOT to miss.
        Assert.True(slo.IsMetBy(Ok(ttft: 50, e2el: 5000, tokens: 1)));
        Assert.False(slo.IsMetBy(RequestOutcome.Failed("HTTP 503", 1, 0)));
        Assert.False(new SloLimits(null, null, 150).IsMetBy(Ok(ttft: 10, e2el: 151, tokens: 2)));
        // A non-streamed request has no TTFT: it cannot be shown to meet a TTFT limit.
        Assert.False(slo.IsMetBy(new RequestOutcome { Success = true, E2elMs = 10, OutputTokens = 4 }));
    }
}
