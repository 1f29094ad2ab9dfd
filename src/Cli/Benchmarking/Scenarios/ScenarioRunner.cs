using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using PdServe.Cli.Benchmarking.Serving;
using PdServe.Cli.Commands;

namespace PdServe.Cli.Benchmarking.Scenarios;

/// <summary>
/// Runs <c>pdserve bench scenarios</c>: for each scenario starts <c>pdserve up</c> as a child process, runs the exact
/// <c>pdserve bench serve</c> command line against it in this process, stops the cluster; then the wrk cross-check; then
/// writes the JSON files, the plots and RESULTS-serving.md. A scenario that fails is recorded as failed and the rest go on.
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
        foreach (var group in runs.Where(r => r.Report is not null).GroupBy(r => r.Scenario.Group))
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
        string[] serveArguments = [.. ServeArguments(settings.NumPrompts, settings.Rates, null, stream: true), "--out", json];
        var run = new ScenarioRun(scenario, "pdserve " + string.Join(' ', upArguments), "pdserve " + string.Join(' ', serveArguments), json);
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
        context.Stderr.WriteLine($"== {scenario.Name}: {run.UpCommand}");
        try
        {
            using var log = new StreamWriter(Path.Combine(logDirectory, $"{scenario.Name}.log")) { AutoFlush = true };
            using var cluster = await UpCluster.StartAsync(upArguments, log, StartupTimeout, cancellationToken);
            using var stop = cancellationToken.Register(cluster.Dispose);
            context.Stderr.WriteLine($"== {scenario.Name}: {run.ServeCommand}");
            return run with { Report = await ServeAsync(serveArguments, json, cancellationToken) };
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
        string[] serveArguments = [.. ServeArguments(settings.CrossCheckRequests, [double.PositiveInfinity], settings.CrossCheckConcurrency, stream: false), "--out", json];
        context.Stderr.WriteLine($"== cross-check: pdserve {string.Join(' ', upArguments)}");
        using var log = new StreamWriter(Path.Combine(logDirectory, "cross-check.log")) { AutoFlush = true };
        using var cluster = await UpCluster.StartAsync(upArguments, log, StartupTimeout, cancellationToken);
        using var stop = cancellationToken.Register(cluster.Dispose);
        ServeBenchReport report;
        try
        {
            report = await ServeAsync(serveArguments, json, cancellationToken);
        }
        catch (CliError e)
        {
            return (null, e.Message);
        }
        var tokenizer = Engine.Tokenization.TextTokenizer.Load(settings.Model);
        var prompt = RandomPrompts.Create(tokenizer, settings.InputLength, settings.OutputLength, 0, 1, settings.Seed)[0];
        var wrk = await WrkCrossCheck.RunAsync(new Uri($"http://127.0.0.1:{settings.Port}/"), report.Model, prompt, settings.CrossCheckConcurrency,
            settings.CrossCheckSeconds, Path.Combine(servingDirectory, "wrk-post.lua"), cancellationToken);
        context.Stderr.WriteLine(wrk.WrkSummary);
        return (new ServingResultsMarkdown.CrossCheck("pdserve " + string.Join(' ', upArguments), "pdserve " + string.Join(' ', serveArguments),
            report.Rates[0], wrk, settings.OutputLength), null);
    }

    /// <summary>Runs one bench serve command line in this process and reads back the report it wrote to <paramref name="json"/>.</summary>
    private async Task<ServeBenchReport> ServeAsync(string[] serveArguments, string json, CancellationToken cancellationToken)
    {
        int code = await Program.RunAsync(serveArguments, context, cancellationToken);
        if (code != ExitCodes.Ok) throw new CliError($"bench serve exited with {code}");
        return JsonSerializer.Deserialize<ServeBenchReport>(await File.ReadAllTextAsync(json, cancellationToken), BenchEngineCommand.JsonOptions)!;
    }

    private string[] ServeArguments(int numPrompts, IReadOnlyList<double> rates, int? maxConcurrency, bool stream)
    {
        var arguments = new List<string>
        {
            "bench", "serve", "--url", $"http://127.0.0.1:{settings.Port}", "--tokenizer", settings.Model, "--dataset", "random",
            "--input-len", Text(settings.InputLength), "--output-len", Text(settings.OutputLength), "--num-prompts", Text(numPrompts),
            "--rate", string.Join(',', rates.Select(ServeBenchOptions.RateLabel)), "--seed", Text(settings.Seed), "--ignore-eos",
        };
        if (maxConcurrency is { } c) arguments.AddRange(["--max-concurrency", Text(c)]);
        if (stream && settings.Goodput is not null) arguments.AddRange(["--goodput", settings.Goodput]);
        if (!stream) arguments.Add("--no-stream");
        return [.. arguments];
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Slug(string title) =>
        string.Concat(title.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : '-')).Trim('-').Replace("--", "-");
}
