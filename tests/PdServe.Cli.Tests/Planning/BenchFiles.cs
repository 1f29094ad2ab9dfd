using System.Text.Json;
using PdServe.Cli.Benchmarking;
using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Tests.Planning;

/// <summary>Hand-made <c>bench serve</c> results: only the fields plan-capacity reads carry meaning, each set by the test.</summary>
internal static class BenchFiles
{
    public static RateResult Rate(string rate, double requestsPerSecond, double seconds, long inputTokens, double outputTokensPerSecond,
        double? ttftP50 = null, double? ttftMean = null, double? tpotP50 = null, double? tpotP90 = null, double? tpotP99 = null, double? e2elMean = null,
        int failed = 0) => new()
    {
        Rate = rate,
        Completed = 10,
        Failed = failed,
        Failures = [],
        DurationSeconds = seconds,
        RequestThroughput = requestsPerSecond,
        OutputTokenThroughput = outputTokensPerSecond,
        TotalTokenThroughput = 0,
        TotalInputTokens = inputTokens,
        TotalOutputTokens = 0,
        PeakConcurrency = 1,
        TtftMs = new LatencySummary(10, ttftMean, ttftP50, null, null),
        TpotMs = new LatencySummary(10, null, tpotP50, tpotP90, tpotP99),
        ItlMs = LatencySummary.Empty,
        E2elMs = new LatencySummary(10, e2elMean, null, null, null),
    };

    public static ServeBenchReport Report(int inputLength, int outputLength, params RateResult[] rates) => new()
    {
        Command = $"pdserve bench serve --input-len {inputLength} --output-len {outputLength} (hand-made)",
        Machine = new MachineDescription("test", 2, 1, "test", "test", false),
        StartedAt = "2026-01-01T00:00:00Z",
        Url = "http://127.0.0.1:1/",
        Model = "m",
        Dataset = "random",
        InputLength = inputLength,
        OutputLength = outputLength,
        RangeRatio = 0,
        NumPrompts = 10,
        Seed = 0,
        IgnoreEos = true,
        Stream = true,
        WarmupRequests = 0,
        Rates = rates,
    };

    public static string Write(string path, ServeBenchReport report)
    {
        File.WriteAllText(path, JsonSerializer.Serialize(report, BenchmarkJson.Options));
        return path;
    }

    /// <summary>
    /// Prefill: 200-token prompts on 2 nodes. Rate 4 carried 40,000 prompt tokens in 10 s (2,000 tok/s per node, the
    /// throughput bound); the lightest rate's TTFT p50 was 100 ms (200 / 0.1 = 2,000 tok/s, the latency bound); rate 8
    /// failed, so its 100,000 tokens do not count.
    /// </summary>
    public static ServeBenchReport Prefill() => Report(200, 10,
        Rate("1", 1, 10, 2_000, 0, ttftP50: 100),
        Rate("4", 4, 10, 40_000, 0, ttftP50: 180),
        Rate("8", 8, 10, 100_000, 0, ttftP50: 90, failed: 3));

    /// <summary>
    /// Decode on 2 nodes: rate 4 is the busiest within TPOT p90 20 ms (400 tok/s, 200 per node); rate 8 broke the limit,
    /// rate 16 failed. At rate 4: E2E mean 1,500 ms, TTFT mean 300 ms, so 4 × 1.2 s / 2 = 2.4 sequences per node.
    /// </summary>
    public static ServeBenchReport Decode() => Report(300, 100,
        Rate("2", 2, 10, 0, 200, ttftMean: 250, tpotP50: 6, tpotP90: 8, tpotP99: 30, e2elMean: 1_000),
        Rate("4", 4, 10, 0, 400, ttftMean: 300, tpotP50: 9, tpotP90: 12, tpotP99: 40, e2elMean: 1_500),
        Rate("8", 8, 10, 0, 700, ttftMean: 400, tpotP50: 15, tpotP90: 25, tpotP99: 60, e2elMean: 2_000),
        Rate("16", 16, 10, 0, 1_500, ttftMean: 100, tpotP50: 5, tpotP90: 5, tpotP99: 5, e2elMean: 500, failed: 2));
}
