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

        Assert.Equal(["unified", "pd", "pd-kv", "pd-plan", "pd-1gbit", "pd-kv-1gbit", "pd-plan-1gbit", "pd-100mbit", "pd-kv-100mbit", "pd-plan-100mbit",
                "multiturn-reuse-off", "multiturn-reuse-on", "multiturn-full-reuse-off", "multiturn-full-reuse-on",
                "multiturn-reuse-off-100mbit", "multiturn-reuse-on-100mbit", "multiturn-full-reuse-off-100mbit", "multiturn-full-reuse-on-100mbit"],
            scenarios.Select(s => s.Name));
        Assert.Equal(["up", "--model", "m", "--prefill", "0", "--decode", "2", "--port", "8400"], scenarios[0].UpArguments("m", 8400));
        Assert.Equal(["up", "--model", "m", "--prefill", "1", "--decode", "1", "--plan", "kv.json", "--link-mbit", "100", "--port", "8400"],
            scenarios.Single(s => s.Name == "pd-kv-100mbit").UpArguments("m", 8400));
        Assert.Equal("Shaped link, 1 Gbit/s", scenarios.Single(s => s.Name == "pd-1gbit").Group);
    }

    [Fact]
    public void Multi_turn_scenarios_turn_reuse_off_and_on_on_one_prefill_and_two_decode_nodes()
    {
        var scenarios = ScenarioCatalog.Create("kv.json", "plan.json", [1000, 100]).Where(s => s.Conversations).ToList();

        // The comparison runs with the token-aware KV policy on both sides; the full-KV pair shows what the policy's cap costs reuse.
        Assert.Equal(["up", "--model", "m", "--prefill", "1", "--decode", "2", "--plan", "kv.json", "--reuse", "off", "--port", "8400"],
            scenarios[0].UpArguments("m", 8400));
        Assert.Equal(["up", "--model", "m", "--prefill", "1", "--decode", "2", "--plan", "kv.json", "--link-mbit", "100", "--reuse", "on", "--port", "8400"],
            scenarios.Single(s => s.Name == "multiturn-reuse-on-100mbit").UpArguments("m", 8400));
        Assert.Equal(["up", "--model", "m", "--prefill", "1", "--decode", "2", "--reuse", "on", "--port", "8400"],
            scenarios.Single(s => s.Name == "multiturn-full-reuse-on").UpArguments("m", 8400));
        Assert.Equal("multiturn-reuse-off-100mbit", scenarios.Single(s => s.Name == "multiturn-reuse-on-100mbit").Baseline);
        Assert.Equal("multiturn-full-reuse-off-100mbit", scenarios.Single(s => s.Name == "multiturn-full-reuse-on-100mbit").Baseline);
        Assert.Equal([ScenarioCatalog.ConversationReuse, ScenarioCatalog.ConversationReuseGroup(100)], scenarios.Select(s => s.Group).Distinct());
        // The other scenarios leave up's reuse default alone.
        Assert.All(ScenarioCatalog.Create("kv.json", "plan.json", []).Where(s => !s.Conversations), s => Assert.DoesNotContain("--reuse", s.UpArguments("m", 1)));
        Assert.DoesNotContain(ScenarioCatalog.Create("kv.json", "plan.json", []), s => s.Name.EndsWith("mbit", StringComparison.Ordinal));
    }

    [Fact]
    public void Results_markdown_gives_multi_turn_scenarios_a_row_per_turn_their_commands_and_the_turns_2_plus_headline()
    {
        var scenarios = ScenarioCatalog.Create("kv.json", "plan.json", []).Where(s => s.Conversations).ToList();
        var runs = new List<ScenarioRun>
        {
            Run(scenarios[0], Report(throughput: 100, ttftP99: 100, tpotP99: 10, kvFull: 0, kvSent: 0) with
            {
                Dataset = "multiturn", Conversation = new ConversationShape(), NumPrompts = 80,
                Rates = [Turned(Turn("1", ttftP50: 40, sent: 8192, computed: 576), Turn("2+", ttftP50: 80, sent: 16384, computed: 900))],
            }),
            Run(scenarios[1], Report(throughput: 100, ttftP99: 100, tpotP99: 10, kvFull: 0, kvSent: 0) with
            {
                Dataset = "multiturn", Conversation = new ConversationShape(), NumPrompts = 80,
                Rates = [Turned(Turn("1", ttftP50: 40, sent: 8192, computed: 64), Turn("2+", ttftP50: 20, sent: 4096, computed: 90))],
            }),
        };

        string md = ServingResultsMarkdown.Render("pdserve bench scenarios", MachineDescription.Current(), TimeSpan.FromMinutes(3), runs,
            new Dictionary<string, string>(), null, "wrk is not installed");

        Assert.Contains("## " + ScenarioCatalog.ConversationReuse, md);
        Assert.Contains("dataset multiturn (16 conversations × 5 turns, system prompt 512 tokens, user messages 32–96 tokens, think time 1 s mean, output 64)", md);
        Assert.Contains("| multiturn-reuse-off | 4 | 1 | 16 / 16 | 600 | 40.0 / 50.0 | 8.0 / 16.0 KiB | 0.0 KiB | 0 | 24 | 576 | 0% |", md);
        Assert.Contains("| multiturn-reuse-on | 4 | 2+ | 16 / 16 | 600 | 20.0 / 50.0 | 4.0 / 16.0 KiB |", md);
        Assert.Contains("Turns 2+ at 4 conversations/s, multiturn-reuse-on vs multiturn-reuse-off: KV sent 4.0 vs 16.0 KiB per request (0.25×), " +
                        "TTFT p50 20 vs 80 ms (0.25×), prompt tokens computed 90 vs 900 (0.10×).", md);
        Assert.Contains("./pdserve up multiturn-reuse-on", md);
        Assert.DoesNotContain("At 4 req/s, multiturn", md);
    }

    private static RateResult Turned(params TurnResult[] turns) =>
        Report(100, 100, 10, 0, 0).Rates[0] with { Completed = 16, Turns = turns };

    private static TurnResult Turn(string turn, double ttftP50, double sent, double computed) => new()
    {
        Turn = turn, Requests = 16, Completed = 16, TtftMs = new LatencySummary(16, ttftP50, ttftP50, 50, 60), MeanPromptTokens = 600,
        MeanPromptTokensComputed = computed, MeanCachedTokens = 600 - computed, MeanReusedPromptTokens = 0, MeanKvBytesFull = 16384,
        MeanKvBytesSent = sent, MeanKvBytesReused = 0, HitShare = 0,
    };

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
