using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Tests.Serving;

public sealed class RateResultTests
{
    [Fact]
    public void Summarises_outcomes_into_throughput_latency_goodput_and_kv_bytes()
    {
        RequestOutcome[] outcomes =
        [
            // TPOT (400−100)/3 = 100; ITL 100, 100, 100.
            new() { Success = true, PromptTokens = 10, OutputTokens = 4, TtftMs = 100, E2elMs = 400, ItlMs = [100, 100, 100] },
            // TPOT (250−50)/4 = 50; ITL 50 ×4.
            new() { Success = true, PromptTokens = 20, OutputTokens = 5, TtftMs = 50, E2elMs = 250, ItlMs = [50, 50, 50, 50] },
            // One token: TTFT only.
            new() { Success = true, PromptTokens = 30, OutputTokens = 1, TtftMs = 300, E2elMs = 300 },
            RequestOutcome.Failed("HTTP 503: no decode node", 5, 0),
            RequestOutcome.Failed("HTTP 503: no decode node", 6, 0),
        ];
        var slo = new SloLimits(TtftMs: 200, TpotMs: 60, E2elMs: null);
        var counters = new GatewayCounters(KvBytesFull: 3000, KvBytesSent: 750, PromptTokens: 60, GenerationTokens: 10);

        var result = RateResult.From("4", outcomes, durationSeconds: 2, peakConcurrency: 3, slo, counters);

        Assert.Equal((3, 2), (result.Completed, result.Failed));
        Assert.Equal([new FailureCount("HTTP 503: no decode node", 2)], result.Failures);
        Assert.Equal(1.5, result.RequestThroughput, 9);
        Assert.Equal((60L, 10L), (result.TotalInputTokens, result.TotalOutputTokens));
        Assert.Equal(5.0, result.OutputTokenThroughput, 9);
        Assert.Equal(35.0, result.TotalTokenThroughput, 9);
        Assert.Equal(3, result.TtftMs.Count);
        Assert.Equal(150.0, result.TtftMs.Mean!.Value, 9);
        Assert.Equal(100.0, result.TtftMs.P50!.Value, 9);
        Assert.Equal(2, result.TpotMs.Count);
        Assert.Equal(75.0, result.TpotMs.Mean!.Value, 9);
        Assert.Equal(7, result.ItlMs.Count);
        Assert.Equal(50.0, result.ItlMs.P50!.Value, 9);
        Assert.Equal(950.0 / 3, result.E2elMs.Mean!.Value, 9);
        // Only the second request meets TTFT ≤ 200 and TPOT ≤ 60 (the third misses TTFT): 1 request in 2 s, 1 of 5 sent.
        Assert.Equal(0.5, result.Goodput!.Value, 9);
        Assert.Equal(0.2, result.SloAttainment!.Value, 9);
        Assert.Equal(1000.0, result.KvBytesFullPerRequest!.Value, 9);
        Assert.Equal(250.0, result.KvBytesSentPerRequest!.Value, 9);
        Assert.Equal(3, result.PeakConcurrency);
    }

    [Fact]
    public void Without_limits_or_counters_those_fields_stay_empty()
    {
        var result = RateResult.From("inf", [RequestOutcome.Failed("timeout", 10, 0)], 1, 1, null, null);
        Assert.Equal((0, 1), (result.Completed, result.Failed));
        Assert.Null(result.Goodput);
        Assert.Null(result.SloAttainment);
        Assert.Null(result.KvBytesSentPerRequest);
        Assert.Equal(0, result.E2elMs.Count);
    }
}
