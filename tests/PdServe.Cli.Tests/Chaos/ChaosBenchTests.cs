using System.Globalization;
using System.Text.Json;
using PdServe.Cli.Benchmarking;
using PdServe.Cli.Benchmarking.Chaos;
using PdServe.Cli.Cluster;
using PdServe.TestSupport;

namespace PdServe.Cli.Tests.Chaos;

/// <summary>A short <c>pdserve bench chaos</c> on a tiny model: two nodes of each pool, kills, poison requests, cancellations.</summary>
public sealed class ChaosBenchTests
{
    [Fact]
    public async Task A_short_chaos_run_loses_no_request_hurts_none_drains_the_kv_and_leaves_no_process()
    {
        using var directory = new TempDirectory("pdserve-chaos");
        string model = directory.Combine("model");
        TinyTokenizer.WriteModel(model, TinyCheckpoint.DefaultConfig(), seed: 5);
        string json = directory.Combine("chaos.json");
        string plot = directory.Combine("chaos.png");

        // Half of saturation, not 0.8: on a shared 2-core CI machine the saturation measured at the start can be
        // higher than what is left later, and an overloaded gateway's 429s would read as collateral failures.
        var run = await Task.Run(() => CliRun.Of("bench", "chaos", "--model", model, "--minutes", "0.75", "--prefill", "2", "--decode", "2",
            "--load", "0.5", "--kill-every", "15", "--poison-every", "5", "--cancel-share", "0.2", "--input-len", "16", "--output-len", "12",
            "--saturation-seconds", "5", "--request-timeout", "120", "--seed", "1",
            "--port", NodeSpec.FreePort().ToString(CultureInfo.InvariantCulture), "--out", json, "--plot", plot));

        Assert.True(File.Exists(json), run.Stderr);
        var report = JsonSerializer.Deserialize<ChaosReport>(File.ReadAllText(json), BenchmarkJson.Options)!;
        string examples = string.Join("\n", report.Requests.Examples.Select(e => $"{e.Kind} {e.Poison} {e.ErrorCode} {e.Detail}"));
        Assert.StartsWith("pdserve bench chaos --model", report.Command);
        Assert.True(report.Requests.Completed > 0, run.Stderr);
        Assert.True(report.Requests.Lost == 0, $"{report.Requests.Lost} lost:\n{examples}");
        Assert.True(report.Requests.Collateral == 0, $"{report.Requests.Collateral} collateral failures:\n{examples}");
        Assert.True(report.Requests.PoisonSent >= 5, $"{report.Requests.PoisonSent} poison requests sent");
        Assert.True(report.Requests.PoisonCompleted + report.Requests.PoisonExcused == report.Requests.PoisonSent, examples);
        Assert.True(report.Requests.Cancelled > 0, "some streams were cancelled by the client");

        Assert.NotEmpty(report.Kills);
        Assert.All(report.Kills, kill =>
        {
            Assert.NotNull(kill.EvictedAfterSeconds);
            Assert.NotNull(kill.RejoinedAfterSeconds);
            Assert.NotEqual(kill.KilledPid, kill.RestartedPid);
        });
        Assert.True(report.KvDrainedAfterSeconds is not null, string.Join(", ", report.AfterDrain));
        Assert.Empty(report.ProcessesLeft);
        // Too short to judge memory growth, and the run says so instead of passing it.
        var rss = Assert.Single(report.Verdicts, v => v.Name.StartsWith("RSS", StringComparison.Ordinal));
        Assert.False(rss.Judged);
        Assert.All(report.Rss, r => Assert.False(r.Judged));

        Assert.True(report.Samples.Count >= 30, $"{report.Samples.Count} samples");
        Assert.Contains(report.Samples, s => s.Nodes.Count == 4 && s.Nodes.All(n => n.RssMiB > 0));
        Assert.Contains("Verdicts", run.Stdout);
        Assert.True(new FileInfo(plot).Length > 1000);
        Assert.True(run.ExitCode == 0, string.Join("\n", report.Verdicts.Where(v => v.Fails).Select(v => $"{v.Name}: {v.Detail}")));
    }

    [Theory]
    [InlineData("--load", "0", "--load must be")]
    [InlineData("--cancel-share", "1.5", "--cancel-share must be")]
    [InlineData("--prefill", "0", "--prefill must be")]
    public void Bad_options_are_usage_errors_naming_the_option(string option, string value, string expected)
    {
        var run = CliRun.Of("bench", "chaos", "--out", "/tmp/never.json", option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.Stderr);
    }
}
