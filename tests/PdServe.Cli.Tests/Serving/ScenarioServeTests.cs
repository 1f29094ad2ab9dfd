using System.Text.Json;
using PdServe.Cli.Benchmarking;
using PdServe.Cli.Benchmarking.Scenarios;
using PdServe.Cli.Benchmarking.Serving;
using PdServe.Cli.Terminal;
using PdServe.TestSupport;

namespace PdServe.Cli.Tests.Serving;

/// <summary>
/// <c>bench scenarios</c> runs each row's serving benchmark in this process from options it builds, and writes the
/// row's <c>bench serve</c> command line into RESULTS-serving.md: that command line, typed, must run the same benchmark.
/// </summary>
public sealed class ScenarioServeTests
{
    [Theory]
    [InlineData(true, null)]
    [InlineData(false, 2)]
    public async Task A_scenario_runs_the_bench_serve_its_command_line_describes(bool stream, int? maxConcurrency)
    {
        await using var cluster = await InProcessCluster.StartAsync();
        using var output = new TempDirectory("pdserve-scenario-serve");
        var settings = new ScenarioSettings
        {
            CommandLine = "pdserve bench scenarios", Model = cluster.ModelDirectory, KvPlan = "kv.json", PrunePlan = "plan.json",
            OutDirectory = output.Path, Port = new Uri(cluster.Url).Port, Rates = [33.33333, double.PositiveInfinity], NumPrompts = 4,
            InputLength = 16, OutputLength = 4, Seed = 3, Goodput = "ttft:60000,tpot:60000",
        };
        var serve = ScenarioServe.For(settings, settings.NumPrompts, settings.Rates, maxConcurrency, stream, output.Combine("serve.json"));
        Assert.Equal("pdserve " + string.Join(' ', serve.Arguments), serve.CommandLine);
        Assert.Equal(["--out", serve.JsonFile], serve.Arguments.TakeLast(2));

        var typed = await Task.Run(() => CliRun.Of([.. serve.Arguments]));
        Assert.True(typed.ExitCode == 0, typed.Stderr);
        ServeBenchReport fromCommandLine = Read(serve.JsonFile);
        var stdout = new StringWriter();
        ServeBenchReport direct = await ServeBenchConsole.RunAsync(serve.Options, serve.RecordedCommand, serve.JsonFile, null,
            new CliContext(stdout, new StringWriter()), CancellationToken.None);

        Assert.Equal(Workload(fromCommandLine), Workload(direct));
        Assert.Equal(Workload(fromCommandLine), Workload(Read(serve.JsonFile)));
        Assert.Equal(fromCommandLine.Rates.Select(r => (r.Completed, r.TotalInputTokens, r.TotalOutputTokens)),
            direct.Rates.Select(r => (r.Completed, r.TotalInputTokens, r.TotalOutputTokens)));
        Assert.Contains("out tok/s", stdout.ToString());
    }

    [Fact]
    public async Task A_multi_turn_scenario_runs_the_bench_serve_its_command_line_describes()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        using var output = new TempDirectory("pdserve-scenario-serve");
        var settings = new ScenarioSettings
        {
            CommandLine = "pdserve bench scenarios", Model = cluster.ModelDirectory, KvPlan = "kv.json", PrunePlan = "plan.json",
            OutDirectory = output.Path, Port = new Uri(cluster.Url).Port, OutputLength = 3, Seed = 2, Goodput = "ttft:60000",
            Conversation = new ConversationShape { Conversations = 2, Turns = 2, SystemTokens = 12, UserTokens = 6, ThinkTimeSeconds = 0.0104 },
            ConversationRate = 50,
        };
        var serve = ScenarioServe.Conversations(settings, output.Combine("multiturn.json"));
        Assert.Contains("--think-time 0.01 ", serve.CommandLine);

        var typed = await Task.Run(() => CliRun.Of([.. serve.Arguments]));
        Assert.True(typed.ExitCode == 0, typed.Stderr);
        ServeBenchReport fromCommandLine = Read(serve.JsonFile);
        ServeBenchReport direct = await ServeBenchConsole.RunAsync(serve.Options, serve.RecordedCommand, serve.JsonFile, null,
            new CliContext(new StringWriter(), new StringWriter()), CancellationToken.None);

        Assert.Equal(Workload(fromCommandLine), Workload(direct));
        Assert.Equal(JsonSerializer.Serialize(fromCommandLine.Conversation), JsonSerializer.Serialize(direct.Conversation));
        Assert.Equal(0.01, direct.Conversation!.ThinkTimeSeconds);
        // Turn 1's prompts are the seed's alone; later turns hold replies, so only their counts are compared.
        Assert.Equal(fromCommandLine.Rates.Select(r => (r.Completed, r.TotalOutputTokens, r.Turns![0].MeanPromptTokens)),
            direct.Rates.Select(r => (r.Completed, r.TotalOutputTokens, r.Turns![0].MeanPromptTokens)));
        Assert.Equal(4, direct.Rates[0].Completed);
    }

    private static ServeBenchReport Read(string json) =>
        JsonSerializer.Deserialize<ServeBenchReport>(File.ReadAllText(json), BenchmarkJson.Options)!;

    /// <summary>Everything a report says about what was run, none of what was measured.</summary>
    private static string Workload(ServeBenchReport r) => JsonSerializer.Serialize(new
    {
        r.Command, r.Url, r.Model, r.Dataset, r.InputLength, r.OutputLength, r.RangeRatio, r.NumPrompts, r.MaxConcurrency, r.Seed,
        r.IgnoreEos, r.Stream, r.Goodput, r.WarmupRequests, Rates = r.Rates.Select(rate => rate.Rate).ToArray(),
    });
}
