using PdServe.Cli.Planning;
using PdServe.Cli.Terminal;
using PdServe.TestSupport;

namespace PdServe.Cli.Tests.Planning;

/// <summary>plan-capacity's arithmetic on hand-made bench serve results whose every figure is known (see <see cref="BenchFiles"/>).</summary>
public sealed class CapacityPlanTests : IDisposable
{
    private readonly TempDirectory directory = new("pdserve-plan");
    private readonly ServeBenchFile prefillFile;
    private readonly ServeBenchFile decodeFile;

    public CapacityPlanTests()
    {
        prefillFile = ServeBenchFile.Load(BenchFiles.Write(directory.Combine("prefill.json"), BenchFiles.Prefill()));
        decodeFile = ServeBenchFile.Load(BenchFiles.Write(directory.Combine("decode.json"), BenchFiles.Decode()));
    }

    public void Dispose() => directory.Dispose();

    [Fact]
    public void Prefill_speed_is_the_larger_of_the_throughput_and_latency_bounds_per_node_and_failed_rates_do_not_count()
    {
        var figures = PrefillFigures.From(prefillFile, nodes: 2);
        Assert.Equal("4", figures.ThroughputRate);
        Assert.Equal(2_000, figures.ThroughputBound, 9);   // 40,000 tokens / 10 s / 2 nodes (rate 8 failed)
        Assert.Equal("1", figures.LightestRate);
        Assert.Equal(2_000, figures.LatencyBound, 9);      // 200 tokens / 0.1 s
        Assert.Equal(2_000, figures.TokensPerSecond, 9);
        Assert.Equal(0, figures.OverheadMs, 9);            // 100 ms − 200 / 2,000 s

        // Measured on one node, the same run's throughput bound doubles and wins; TTFT then holds a fixed overhead.
        var oneNode = PrefillFigures.From(prefillFile, nodes: 1);
        Assert.Equal(4_000, oneNode.TokensPerSecond, 9);
        Assert.Equal(50, oneNode.OverheadMs, 9);           // 100 ms − 200 / 4,000 s
    }

    [Fact]
    public void Prefill_nodes_are_the_fewest_whose_md1_mean_ttft_meets_the_limit()
    {
        // μ 4,000 tok/s, O 50 ms. Workload 400 tokens at 15 req/s: S = 100 ms, work = 6,000 / 4,000 = 1.5 nodes.
        var figures = PrefillFigures.From(prefillFile, nodes: 1);
        var workload = new CapacityWorkload(400, 50, 15);

        var tight = PrefillSizing.Plan(workload, figures, ttftLimitMs: 250);
        Assert.Equal(100, tight.ServiceMs, 9);
        Assert.Equal(1.5, tight.NodesOfWork, 9);
        // k = 2: ρ 0.75, W = 0.75 × 100 / (2 × 0.25) = 150 ms, TTFT 300 ms; k = 3: ρ 0.5, W 50 ms, TTFT 200 ms.
        Assert.Collection(tight.Considered,
            two => Assert.Equal((2, 0.75, 150.0, 300.0, false), (two.Nodes, two.Utilization, Round(two.WaitMs), Round(two.TtftMs), two.MeetsSlo)),
            three => Assert.Equal((3, 0.5, 50.0, 200.0, true), (three.Nodes, three.Utilization, Round(three.WaitMs), Round(three.TtftMs), three.MeetsSlo)));
        Assert.Equal(3, tight.Recommended);

        Assert.Equal(2, PrefillSizing.Plan(workload, figures, ttftLimitMs: 300).Recommended);

        // S + O = 150 ms: no pool meets a 120 ms limit.
        var impossible = PrefillSizing.Plan(workload, figures, ttftLimitMs: 120);
        Assert.Null(impossible.Recommended);
        Assert.Contains("S + O = 100.0 + 50.0 ms, over the 120 ms TTFT limit", impossible.Infeasible);
        Assert.Empty(impossible.Considered);
    }

    [Fact]
    public void A_workload_of_whole_nodes_needs_one_node_more_so_utilization_stays_below_one()
    {
        var figures = PrefillFigures.From(prefillFile, nodes: 2); // μ 2,000
        var sizing = PrefillSizing.Plan(new CapacityWorkload(200, 10, 20), figures, ttftLimitMs: 10_000);
        Assert.Equal(2, sizing.NodesOfWork, 9);                   // 4,000 / 2,000
        Assert.Equal(3, sizing.Considered[0].Nodes);
        Assert.Equal(3, sizing.Recommended);
    }

    [Fact]
    public void Decode_throughput_per_node_comes_from_the_busiest_rate_within_the_tpot_limit()
    {
        var p90 = DecodeFigures.From(decodeFile, nodes: 2, tpotLimitMs: 20, percentile: 90);
        Assert.Equal(("4", 12.0, 200.0), (p90.Rate, p90.TpotMs, p90.OutputTokensPerSecond));
        Assert.Equal(2.4, p90.Concurrency, 9);                   // 4 req/s × (1.5 − 0.3) s / 2 nodes
        Assert.False(p90.MaybeUnsaturated);

        // At p50 rate 8 (15 ms) is within the limit too; at p99 only… none: rate 2's p99 is 30 ms.
        Assert.Equal("8", DecodeFigures.From(decodeFile, 2, 20, 50).Rate);
        var error = Assert.Throws<CliError>(() => DecodeFigures.From(decodeFile, 2, 20, 99));
        Assert.Contains("TPOT p99 within 20 ms", error.Message);

        // 15 req/s × 50 tokens = 750 tok/s over 200 per node = 3.75 → 4 nodes; 15 × 50 × 12 ms = 9 sequences at once.
        var sizing = DecodeSizing.Plan(new CapacityWorkload(400, 50, 15), p90);
        Assert.Equal((750.0, 3.75, 4), (sizing.RequiredTokensPerSecond, sizing.NodesOfWork, sizing.Recommended));
        Assert.Equal(9, sizing.SequencesInFlight, 9);
        Assert.Equal(2, DecodeSizing.Plan(new CapacityWorkload(400, 40, 10), p90).Recommended); // 400 / 200 exactly
    }

    [Fact]
    public void The_command_prints_the_arithmetic_and_the_files_it_used()
    {
        var run = CliRun.Of("plan-capacity", "--workload", "input:400,output:50,rate:15", "--slo", "ttft:250,tpot:20",
            "--prefill-bench", prefillFile.Path, "--decode-bench", decodeFile.Path, "--decode-bench-nodes", "2", "--json", directory.Combine("plan.json"));

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains($"Prefill figures, from {prefillFile.Path} (1 prefill node measured; 200-token prompts)", run.Stdout);
        Assert.Contains($"Decode figures, from {decodeFile.Path} (2 decode nodes measured; 300 + 100 tokens)", run.Stdout);
        Assert.Contains("μ = max of the two = 4000 prompt tok/s per node", run.Stdout);
        Assert.Contains("k = 3: ρ = 1.5 / 3 = 0.5; W = ρ·S / (2(1 − ρ)) = 50.0 ms; TTFT ≈ W + S + O = 200.0 ms ≤ 250", run.Stdout);
        Assert.Contains("R·M / T = 750 / 200 = 3.75 nodes → ⌈3.75⌉ = 4 decode nodes", run.Stdout);
        Assert.Contains("Recommendation: 3 prefill + 4 decode nodes", run.Stdout);
        Assert.Contains("the prefill run's prompts had 200 tokens, the workload's 400", run.Stdout);
        Assert.Contains("\"recommended\": 3", File.ReadAllText(directory.Combine("plan.json")));
    }

    [Fact]
    public void An_slo_no_pool_meets_exits_1_and_says_why()
    {
        var run = CliRun.Of("plan-capacity", "--workload", "input:400,output:50,rate:15", "--slo", "ttft:120,tpot:20",
            "--prefill-bench", prefillFile.Path, "--decode-bench", decodeFile.Path, "--decode-bench-nodes", "2");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Recommendation: none meets the TTFT limit", run.Stdout);
    }

    [Theory]
    [InlineData("--workload", "input:400,output:50", "--workload must be")]
    [InlineData("--workload", "input:0,output:50,rate:1", "--workload must be")]
    [InlineData("--slo", "ttft:500", "--slo must be")]
    [InlineData("--percentile", "95", "--percentile must be")]
    [InlineData("--prefill-bench", "/nonexistent/prefill.json", "/nonexistent/prefill.json does not exist")]
    public void Bad_input_is_one_line_and_exit_2(string option, string value, string expected)
    {
        var arguments = new List<string> { "plan-capacity", "--workload", "input:400,output:50,rate:15", "--decode-bench", decodeFile.Path, "--prefill-bench", prefillFile.Path };
        int at = arguments.IndexOf(option);
        if (at >= 0) arguments[at + 1] = value;
        else arguments.AddRange([option, value]);
        var run = CliRun.Of([.. arguments]);
        Assert.Equal(2, run.ExitCode);
        Assert.Single(run.StderrLines);
        Assert.Contains(expected, run.Stderr);
    }

    [Theory]
    [InlineData("input:384,output:64,rate:8", 384, 64, 8.0)]
    [InlineData("rate:0.5, output:1 ,input:7", 7, 1, 0.5)]
    public void Workloads_parse_in_any_order(string text, int input, int output, double rate) =>
        Assert.Equal(new CapacityWorkload(input, output, rate), CapacityWorkload.Parse(text));

    [Theory]
    [InlineData("input:1,output:1,rate:1,rate:2", "given twice")]
    [InlineData("input:1,output:1,speed:2", "unknown key 'speed'")]
    [InlineData("input:1.5,output:1,rate:1", "not a whole number")]
    [InlineData("input:1,output:1,rate:-1", "not a positive number")]
    public void Bad_workloads_say_what_is_wrong(string text, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => CapacityWorkload.Parse(text)).Message);

    private static double Round(double value) => Math.Round(value, 6);
}
