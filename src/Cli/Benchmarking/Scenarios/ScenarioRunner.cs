using System.Diagnostics;
using PdServe.Cli.Benchmarking.Serving;
using PdServe.Cli.Cluster;
using PdServe.Cli.Terminal;
using PdServe.Engine.Tokenization;

namespace PdServe.Cli.Benchmarking.Scenarios;

/// <summary>
/// Runs <c>pdserve bench scenarios</c>: for each scenario starts <c>pdserve up</c> as a child process, runs the serving
/// benchmark its <c>pdserve bench serve</c> command line describes against it in this process (<see cref="ScenarioServe"/>),
/// stops the cluster; then the wrk cross-check; then writes the JSON files, the plots and RESULTS-serving.md. A scenario
/// that fails is recorded as failed and the rest go on.
/// </summary>
public sealed class ScenarioRunner(ScenarioSettings settings, CliContext context)
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromMinutes(5);

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        string servingDirectory = Path.Combine(settings.OutDirectory, "serving");
        Directory.CreateDirectory(servingDirectory);
        string logDirectory = Directory.CreateTempSubdirectory("pdserve-scenarios-").FullName;
        context.Stderr.WriteLine($"cluster logs: {logDirectory}");

        var runs = new List<ScenarioRun>();
        foreach (var scenario in ScenarioCatalog.Create(settings.KvPlan, settings.PrunePlan, settings.LinkMbits))
        {
            cancellationToken.ThrowIfCancellationRequested();
            runs.Add(await RunScenarioAsync(scenario, servingDirectory, logDirectory, cancellationToken));
        }

        var (crossCheck, crossCheckSkipped) = await CrossCheckAsync(servingDirectory, logDirectory, cancellationToken);

        var plots = new Dictionary<string, string>();
        // Multi-turn groups run one conversation rate: their tables are per turn, not a curve over rates.
        foreach (var group in runs.Where(r => r.Report is not null && !r.Scenario.Conversations).GroupBy(r => r.Scenario.Group))
        {
            string file = $"{Slug(group.Key)}.png";
            ServeBenchPlot.Save(Path.Combine(servingDirectory, file), group.Select(r => (r.Scenario.Name, r.Report!)).ToList());
            plots[group.Key] = $"serving/{file}";
        }
        string markdown = ServingResultsMarkdown.Render(settings.CommandLine, MachineDescription.Current(), clock.Elapsed, runs, plots, crossCheck, crossCheckSkipped);
        string resultsPath = Path.Combine(settings.OutDirectory, "RESULTS-serving.md");
        await File.WriteAllTextAsync(resultsPath, markdown, cancellationToken);
        context.Stdout.WriteLine($"wrote {resultsPath} ({runs.Count(r => r.Report is not null)} of {runs.Count} scenarios measured, " +
                                 $"{runs.Count(r => r.Skipped is not null)} skipped, {runs.Count(r => r.Error is not null)} failed)");
        return runs.Any(r => r.Error is not null) ? ExitCodes.Failure : ExitCodes.Ok;
    }

    private async Task<ScenarioRun> RunScenarioAsync(ServingScenario scenario, string servingDirectory, string logDirectory, CancellationToken cancellationToken)
    {
        string json = Path.Combine(servingDirectory, $"{scenario.Name}.json");
        var upArguments = scenario.UpArguments(settings.Model, settings.Port);
        var serve = scenario.Conversations
            ? ScenarioServe.Conversations(settings, json)
            : ScenarioServe.For(settings, settings.NumPrompts, settings.Rates, null, stream: true, json);
        var run = new ScenarioRun(scenario, "pdserve " + string.Join(' ', upArguments), serve.CommandLine, json);
        if (scenario.LinkMbit is not null)
        {
            try
            {
                ShapedLink.RequireRootAndTools("bench scenarios");
            }
            catch (CliError e)
            {
                context.Stderr.WriteLine($"{scenario.Name}: skipped ({e.Message})");
                return run with { Skipped = e.Message };
            }
        }
        context.Stderr.WriteLine($"== {scenario.Name}: {run.UpCommandLine}");
        try
        {
            using var log = new StreamWriter(Path.Combine(logDirectory, $"{scenario.Name}.log")) { AutoFlush = true };
            using var cluster = await UpCluster.StartAsync(upArguments, log, StartupTimeout, cancellationToken);
            using var stop = cancellationToken.Register(cluster.Dispose);
            context.Stderr.WriteLine($"== {scenario.Name}: {run.ServeCommandLine}");
            return run with { Report = await ServeAsync(serve, cancellationToken) };
        }
        catch (CliError e)
        {
            context.Stderr.WriteLine($"{scenario.Name}: failed: {e.Message}");
            return run with { Error = e.Message };
        }
    }

    private async Task<(ServingResultsMarkdown.CrossCheck?, string?)> CrossCheckAsync(string servingDirectory, string logDirectory, CancellationToken cancellationToken)
    {
        if (settings.CrossCheckSeconds == 0) return (null, "--cross-check-seconds 0");
        if (!WrkCrossCheck.IsInstalled()) return (null, "wrk is not installed (apt-get install wrk)");
        var pd = ScenarioCatalog.Create(settings.KvPlan, settings.PrunePlan, []).Single(s => s.Name == "pd");
        var upArguments = pd.UpArguments(settings.Model, settings.Port);
        string json = Path.Combine(servingDirectory, "cross-check-bench-serve.json");
        // Enough requests to run about as long as wrk does at the pd scenario's throughput.
        var serve = ScenarioServe.For(settings, settings.CrossCheckRequests, [double.PositiveInfinity], settings.CrossCheckConcurrency, stream: false, json);
        context.Stderr.WriteLine($"== cross-check: pdserve {string.Join(' ', upArguments)}");
        using var log = new StreamWriter(Path.Combine(logDirectory, "cross-check.log")) { AutoFlush = true };
        using var cluster = await UpCluster.StartAsync(upArguments, log, StartupTimeout, cancellationToken);
        using var stop = cancellationToken.Register(cluster.Dispose);
        ServeBenchReport report;
        try
        {
            report = await ServeAsync(serve, cancellationToken);
        }
        catch (CliError e)
        {
            return (null, e.Message);
        }
        var tokenizer = TextTokenizer.Load(settings.Model);
        var prompt = RandomPrompts.Create(tokenizer, settings.InputLength, settings.OutputLength, 0, 1, settings.Seed)[0];
        var wrk = await WrkCrossCheck.RunAsync(new Uri($"http://127.0.0.1:{settings.Port}/"), report.Model, prompt, settings.CrossCheckConcurrency,
            settings.CrossCheckSeconds, Path.Combine(servingDirectory, "wrk-post.lua"), cancellationToken);
        context.Stderr.WriteLine(wrk.WrkSummary);
        return (new ServingResultsMarkdown.CrossCheck("pdserve " + string.Join(' ', upArguments), serve.CommandLine,
            report.Rates[0], wrk, settings.OutputLength), null);
    }

    /// <summary>
    /// Runs one bench serve in this process. A run that fails ends as its command line would (the error as one line on
    /// stderr, every request failed: exit 1) and the row records that exit code.
    /// </summary>
    private async Task<ServeBenchReport> ServeAsync(ScenarioServe serve, CancellationToken cancellationToken)
    {
        ServeBenchReport report;
        try
        {
            report = await ServeBenchConsole.RunAsync(serve.Options, serve.RecordedCommand, serve.JsonFile, null, context, cancellationToken);
        }
        catch (Exception e)
        {
            context.Stdout.Flush();
            throw new CliError($"bench serve exited with {ErrorReporter.Report(e, context.Stderr)}", e);
        }
        context.Stdout.Flush();
        if (report.TotalCompleted == 0) throw new CliError($"bench serve exited with {ExitCodes.Failure}");
        return report;
    }

    private static string Slug(string title) =>
        string.Concat(title.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : '-')).Trim('-').Replace("--", "-");
}
