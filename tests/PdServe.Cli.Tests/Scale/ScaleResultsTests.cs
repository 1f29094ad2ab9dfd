using PdServe.Cli.Benchmarking;
using PdServe.Cli.Benchmarking.Scale;

namespace PdServe.Cli.Tests.Scale;

/// <summary>The rehearsal's figures from its requests and changes: windows, throughput per pool size, verdicts, the markdown.</summary>
public sealed class ScaleResultsTests
{
    private static ScaleRequest Ok(double sent, double ended, int output, double ttft, double tpot) => new(sent, ended, true, null, 8, output, ttft, tpot, (ended - sent) * 1000);

    private static readonly IReadOnlyList<ScaleRequest> Requests =
    [
        Ok(0.5, 1.5, 10, 100, 10),   // ends in window 1
        Ok(9.0, 10.5, 10, 300, 30),  // sent in window 1, ends in window 2
        Ok(11.0, 12.0, 20, 50, 5),
        new(12.0, 13.0, false, "HTTP 503: no node", 0, 0, null, null, 1000),
        Ok(25.0, 26.0, 30, 70, 7),
    ];

    [Fact]
    public void A_window_counts_requests_that_ended_in_it_for_throughput_and_those_sent_in_it_for_latency()
    {
        var first = ScalePhase.Of("prefill 1 + decode 1", 1, 1, 0, 10, Requests, new Dictionary<string, double> { ["decode0"] = 1 }, 2);
        Assert.Equal((1, 0), (first.Completed, first.Failed));
        Assert.Equal(0.1, first.RequestsPerSecond, 9);
        Assert.Equal(1.0, first.OutputTokensPerSecond, 9);
        Assert.Equal(2, first.TtftMs.Count);
        Assert.Equal(200, first.TtftMs.P50!.Value, 9);

        var second = ScalePhase.Of("prefill 1 + decode 2", 1, 2, 10, 20, Requests, new Dictionary<string, double>(), null);
        Assert.Equal((2, 1), (second.Completed, second.Failed));
        Assert.Equal(3.0, second.OutputTokensPerSecond, 9);   // 10 + 20 tokens over 10 s
    }

    [Fact]
    public void Throughput_per_pool_size_joins_every_window_of_that_size_and_leaves_the_rolling_restart_apart()
    {
        ScalePhase[] phases =
        [
            ScalePhase.Of("prefill 1 + decode 1", 1, 1, 0, 10, Requests, new Dictionary<string, double>(), 0),
            ScalePhase.Of("prefill 1 + decode 2", 1, 2, 10, 20, Requests, new Dictionary<string, double>(), 0),
            ScalePhase.Of("prefill 1 + decode 1", 1, 1, 20, 30, Requests, new Dictionary<string, double>(), 0),
            ScalePhase.Of(ScaleRunner.RollingRestartPhase, 1, 1, 30, 40, Requests, new Dictionary<string, double>(), 0),
        ];
        var sizes = PoolSizeThroughput.Of(phases, Requests);
        Assert.Equal(2, sizes.Count);
        var one = sizes[0];
        Assert.Equal((1, 1, 2, 20.0, 2), (one.Prefill, one.Decode, one.Windows, one.Seconds, one.Completed));
        Assert.Equal(0.1, one.RequestsPerSecond, 9);
        Assert.Equal(2.0, one.OutputTokensPerSecond, 9);      // 10 + 30 tokens over 20 s
        Assert.Equal(3, one.TtftMs.Count);                     // sent at 0.5, 9.0 and 25.0
        Assert.Equal((1, 2), (sizes[1].Prefill, sizes[1].Decode));
    }

    [Fact]
    public void The_verdicts_fail_on_a_failed_request_an_unserved_node_an_undrained_node_an_abort_or_a_leftover()
    {
        ScaleEvent Event(string action, string node) => new()
        {
            Action = action, Reason = "test", Role = "decode", Node = node, Address = "http://10.78.0.10:8200", Namespace = "ns",
            StartedAtSeconds = 1, PrefillAfter = 1, DecodeAfter = 1,
        };
        ScaleEvent[] good =
        [
            Event("add", "decode1") with { FirstCallAfterSeconds = 0.4 },
            Event("remove", "decode1") with { ExitCode = 0, ExitedAfterSeconds = 0.3, LastCallAfterSeconds = 0 },
        ];
        var ok = Requests.Where(r => r.Success).ToList();
        Assert.All(ScaleJudgement.Verdicts(ok, good, [], null, 40), v => Assert.True(v.Passed, v.Name));

        var verdicts = ScaleJudgement.Verdicts(Requests,
            [Event("add", "decode2"), Event("remove", "decode0") with { ExitCode = 137, ExitedAfterSeconds = 40 }],
            ["network namespace pdserve-scale-1-dns"], "interrupted", 40);
        Assert.All(verdicts, v => Assert.False(v.Passed, v.Name));
        Assert.Contains(verdicts, v => v.Detail == "1 of 5 failed");
        Assert.Contains(verdicts, v => v.Detail == "no call reached decode2");
        Assert.Contains(verdicts, v => v.Detail == "not: decode0");
        Assert.False(ScaleJudgement.Verdicts([], good, [], null, 40)[0].Passed);
    }

    [Fact]
    public void The_markdown_has_the_requests_the_pool_sizes_every_change_and_the_verdicts()
    {
        var phases = new[] { ScalePhase.Of("prefill 1 + decode 1", 1, 1, 0, 10, Requests, new Dictionary<string, double>(), 0) };
        var change = new ScaleEvent
        {
            Action = "add", Reason = "scale decode to 2", Role = "decode", Node = "decode1", Address = "http://10.78.0.12:8200", Namespace = "ns",
            StartedAtSeconds = 3, PrefillAfter = 1, DecodeAfter = 2, ReadyAfterSeconds = 2.5, RecordAddedAtSeconds = 5.5,
            InGatewayPoolAfterSeconds = 0.7, FirstCallAfterSeconds = 1.25,
        };
        var report = new ScaleReport
        {
            Command = "pdserve bench scale --out x.json", Machine = MachineDescription.Current(), StartedAt = "now", Model = "/m", GatewayConfig = "configs/gateway.k8s.json",
            PrefillService = "http://pdserve-prefill.pdserve.svc.cluster.local:8100", DecodeService = "http://pdserve-decode.pdserve.svc.cluster.local:8200",
            Subnet = "10.78.0.0/24", DnsServer = "Dnsmasq version 2.90", DnsRefreshSeconds = 5, PreStopSeconds = 5, TerminationGraceSeconds = 40,
            SampleIntervalSeconds = 0.1, Rate = 4, MaxConcurrency = 64, InputLength = 128, OutputLength = 64, PhaseSeconds = 30, Seed = 0,
            PrefillSizes = [1, 2, 1], DecodeSizes = [1, 3, 1], RollingRestart = true, LoadStartedAtSeconds = 0, LoadEndedAtSeconds = 30,
            Sent = 5, Completed = 4, Failed = 1, Failures = [new("HTTP 503: no node", 1)], GatewayRetries = 2, Events = [change], Phases = phases,
            PoolSizes = PoolSizeThroughput.Of(phases, Requests), Leftovers = [], SweptBeforeStart = [],
            Verdicts = ScaleJudgement.Verdicts(Requests, [change], [], null, 40), Requests = Requests,
        };
        string markdown = ScaleMarkdown.Render(report);
        Assert.Contains("Command: `pdserve bench scale --out x.json`", markdown);
        Assert.Contains("re-resolves every 5 s (`Gateway:DnsRefreshPeriod`)", markdown);
        Assert.Contains("| 5 | 4 | 1 | 2 | 30 s |", markdown);
        Assert.Contains("- failed ×1: HTTP 503: no node", markdown);
        Assert.Contains("| 1 | 1 | 1 | 10 | 1 | 0.10 | 1 | ", markdown);
        Assert.Contains("| add: scale decode to 2 | decode1 | 10.78.0.12 | 2.50 s | 0.70 s | 1.25 s | – | – | – |", markdown);
        Assert.Contains("- A new node's first call came 1.25 s after its DNS record on average, at most 1.25 s (1 added).", markdown);
        Assert.Contains("| no request failed | **FAIL** | 1 of 5 failed |", markdown);
    }
}
