using PdServe.Cli.Benchmarking;
using PdServe.Cli.Benchmarking.Scenarios;
using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Tests.Serving;

public sealed class ScenarioResultsTests
{
    [Fact]
    public void The_catalog_compares_unified_with_pd_and_full_with_pruned_on_every_link()
    {
        var scenarios = ScenarioCatalog.Create("kv.json", "plan.json", [1000, 100]);

        Assert.Equal(["unified", "pd", "pd-kv", "pd-plan", "pd-1gbit", "pd-kv-1gbit", "pd-plan-1gbit", "pd-100mbit", "pd-kv-100mbit", "pd-plan-100mbit"],
            scenarios.Select(s => s.Name));
        Assert.Equal(["up", "--model", "m", "--prefill", "0", "--decode", "2", "--port", "8400"], scenarios[0].UpArguments("m", 8400));
        Assert.Equal(["up", "--model", "m", "--prefill", "1", "--decode", "1", "--plan", "kv.json", "--link-mbit", "100", "--port", "8400"],
            scenarios.Single(s => s.Name == "pd-kv-100mbit").UpArguments("m", 8400));
        Assert.Equal("Shaped link, 1 Gbit/s", scenarios.Single(s => s.Name == "pd-1gbit").Group);
    }

    [Fact]
    public void Results_markdown_holds_each_row_its_commands_and_computed_headlines()
    {
        var scenarios = ScenarioCatalog.Create("kv.json", "plan.json", [100]);
        var runs = new List<ScenarioRun>
        {
            Run(scenarios[0], Report(throughput: 200, ttftP99: 100, tpotP99: 10, kvFull: 0, kvSent: 0)),
            Run(scenarios[1], Report(throughput: 150, ttftP99: 300, tpotP99: 5, kvFull: 2048, kvSent: 2048)),
            Run(scenarios[2], Report(throughput: 150, ttftP99: 250, tpotP99: 5, kvFull: 2048, kvSent: 512)),
            new ScenarioRun(scenarios[3], "pdserve up x", "pdserve bench serve y", "f.json") { Error = "up exited | code 1" },
            new ScenarioRun(scenarios[4], "pdserve up z", "pdserve bench serve w", "g.json") { Skipped = "needs root" },
        };

        string md = ServingResultsMarkdown.Render("pdserve bench scenarios", MachineDescription.Current(), TimeSpan.FromMinutes(3), runs,
            new Dictionary<string, string> { [ScenarioCatalog.Disaggregation] = "serving/a.png" }, null, "wrk is not installed");

        Assert.Contains("| unified | 4 | 10 | 0 | 2.00 | 200 |", md);
        Assert.Contains("| pd-kv | 4 |", md);
        Assert.Contains("0.5 / 2.0 KiB (4.0× less)", md);
        Assert.Contains("none (unified)", md);
        Assert.Contains("failed: up exited \\| code 1", md);
        Assert.Contains("skipped: needs root", md);
        Assert.Contains("![Unified vs disaggregated (loopback)](serving/a.png)", md);
        Assert.Contains("At 4 req/s, pd vs unified: output 150 vs 200 tok/s (0.75×), TTFT p99 300 vs 100 ms (3.00×), TPOT p99 5.0 vs 10.0 ms (0.50×).", md);
        Assert.Contains("At 4 req/s, pd-kv vs pd: output 150 vs 150 tok/s (1.00×), TTFT p99 250 vs 300 ms (0.83×), TPOT p99 5.0 vs 5.0 ms (1.00×).", md);
        Assert.Contains("Not run: wrk is not installed.", md);
        Assert.Contains("./pdserve up z", md);
    }

    private static ScenarioRun Run(ServingScenario scenario, ServeBenchReport report) =>
        new(scenario, $"pdserve up {scenario.Name}", $"pdserve bench serve {scenario.Name}", $"{scenario.Name}.json") { Report = report };

    private static ServeBenchReport Report(double throughput, double ttftP99, double tpotP99, double kvFull, double kvSent) => new()
    {
        Command = "pdserve bench serve", Machine = MachineDescription.Current(), StartedAt = "2026-11-24T00:00:00Z", Url = "http://127.0.0.1:8400/",
        Model = "m", Dataset = "random", InputLength = 384, OutputLength = 64, RangeRatio = 0, NumPrompts = 10, Seed = 0, IgnoreEos = true,
        Stream = true, WarmupRequests = 4,
        Rates =
        [
            new RateResult
            {
                Rate = "4", Completed = 10, Failed = 0, Failures = [], DurationSeconds = 5, RequestThroughput = 2, OutputTokenThroughput = throughput,
                TotalTokenThroughput = throughput * 7, TotalInputTokens = 3840, TotalOutputTokens = 640, PeakConcurrency = 3,
                TtftMs = new LatencySummary(10, ttftP99 / 2, ttftP99 / 2, ttftP99, ttftP99), TpotMs = new LatencySummary(10, tpotP99, tpotP99, tpotP99, tpotP99),
                ItlMs = LatencySummary.Empty, E2elMs = new LatencySummary(10, 500, 500, 600, 700),
                KvBytesFullPerRequest = kvFull, KvBytesSentPerRequest = kvSent,
            },
        ],
    };
}
