using System.Globalization;
using System.Text.Json;
using PdServe.Cli.Benchmarking;
using PdServe.Cli.Benchmarking.Scale;
using PdServe.Cli.Cluster;
using PdServe.TestSupport;

namespace PdServe.Cli.Tests.Scale;

/// <summary><c>pdserve bench scale</c> end to end on a tiny model, and its usage errors.</summary>
public sealed class BenchScaleTests
{
    [RequiresRootAndDnsmasqFact]
    public async Task A_tiny_rehearsal_scales_decode_rolls_every_node_fails_no_request_and_leaves_nothing()
    {
        using var directory = new TempDirectory("pdserve-scale-test");
        string model = directory.Combine("model");
        TinyTokenizer.WriteModel(model, TinyCheckpoint.DefaultConfig(), seed: 5);
        string json = directory.Combine("scale.json");

        // Its own /24, so a rehearsal run by hand at the same time does not collide with this one.
        var run = await Task.Run(() => CliRun.Of("bench", "scale", "--model", model, "--decode-sizes", "1,2,1", "--prefill-sizes", "1",
            "--phase-seconds", "4", "--rate", "8", "--input-len", "8", "--output-len", "4", "--dns-refresh", "0.5", "--prestop", "1",
            "--termination-grace", "15", "--subnet", "10.79.0.0/24", "--port", "8000", "--request-timeout", "60", "--out", json));

        Assert.True(File.Exists(json), run.Stderr);
        var report = JsonSerializer.Deserialize<ScaleReport>(File.ReadAllText(json), BenchmarkJson.Options)!;
        string failures = string.Join("; ", report.Failures.Select(f => $"{f.Count}× {f.Reason}"));
        Assert.True(report.Completed > 0, run.Stderr);
        Assert.True(report.Failed == 0, failures);
        Assert.Empty(report.Leftovers);

        // decode +1, decode −1, then the rolling restart: each of the two remaining nodes replaced (add, then remove).
        Assert.Equal(["add decode", "remove decode", "add prefill", "remove prefill", "add decode", "remove decode"],
            report.Events.Select(e => $"{e.Action} {e.Role}"));
        Assert.All(report.Events.Where(e => e.Action == "add"), e =>
        {
            Assert.NotNull(e.FirstCallAfterSeconds);
            Assert.StartsWith("http://10.79.0.", e.Address);
        });
        Assert.All(report.Events.Where(e => e.Action == "remove"), e => Assert.Equal(0, e.ExitCode));
        // Every new node is a new host with an address never used before, as a new pod gets.
        var seen = new HashSet<string>();
        foreach (var e in report.Events) Assert.True(seen.Add(e.Address) || e.Action == "remove", $"{e.Node} reused {e.Address}");
        Assert.Equal([(1, 1), (1, 2)], report.PoolSizes.Select(p => (p.Prefill, p.Decode)));
        Assert.Contains(report.Phases, p => p.Name == ScaleRunner.RollingRestartPhase);
        Assert.StartsWith("Dnsmasq version", report.DnsServer);
        Assert.Equal("http://pdserve-prefill.pdserve.svc.cluster.local:8100", report.PrefillService);

        Assert.True(File.Exists(Path.ChangeExtension(json, ".md")));
        Assert.Contains("### Every change", run.Stdout);
        Assert.True(run.ExitCode == 0, string.Join("\n", report.Verdicts.Where(v => !v.Passed).Select(v => $"{v.Name}: {v.Detail}")));

        // Checked here too, not only by the run itself.
        int runId = Environment.ProcessId;
        Assert.DoesNotContain(ScaleLeftovers.ParseNamespaceList(SystemTool.TryRun("ip", "netns", "list").Output), n => ScaleNetworkPlan.RunIdOfNamespace(n) == runId);
        Assert.DoesNotContain(ScaleLeftovers.ParseLinkList(SystemTool.TryRun("ip", "-o", "link", "show").Output), l => ScaleNetworkPlan.RunIdOfLink(l) == runId);
        Assert.False(Directory.Exists(ScaleLeftovers.TemporaryDirectory(runId)));
    }

    [Theory]
    [InlineData("--decode-sizes", "1,0", "--decode-sizes must be")]
    [InlineData("--prefill-sizes", "two", "--prefill-sizes must be")]
    [InlineData("--subnet", "10.78.0.0/16", "--subnet must be")]
    [InlineData("--rate", "0", "--rate must be")]
    [InlineData("--gateway-config", "/nonexistent/gateway.json", "--gateway-config must be")]
    public void Bad_options_are_usage_errors_naming_the_option(string option, string value, string expected)
    {
        var run = CliRun.Of("bench", "scale", "--out", "/tmp/never.json", option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Single(run.StderrLines);
        Assert.Contains(expected, run.Stderr);
    }

    [Fact]
    public void A_grace_period_shorter_than_the_prestop_is_refused()
    {
        var run = CliRun.Of("bench", "scale", "--out", "/tmp/never.json", "--prestop", "5", "--termination-grace", "5");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--termination-grace must be longer than --prestop", run.Stderr);
    }

    [UnprivilegedFact]
    public void Without_root_the_command_is_one_line_and_exit_2()
    {
        var run = CliRun.Of("bench", "scale", "--out", "/tmp/never.json", "--port", NodeSpec.FreePort().ToString(CultureInfo.InvariantCulture));
        Assert.Equal(2, run.ExitCode);
        Assert.Equal(["pdserve: bench scale needs root (it creates network namespaces, veths, a bridge and runs dnsmasq)"], run.StderrLines);
    }
}

/// <summary>A [Fact] reported as skipped when the tests run as root (where the command under test would really start).</summary>
public sealed class UnprivilegedFactAttribute : FactAttribute
{
    public UnprivilegedFactAttribute()
    {
        if (Environment.IsPrivilegedProcess) Skip = "runs as root here: bench scale would start the rehearsal instead of refusing";
    }
}
