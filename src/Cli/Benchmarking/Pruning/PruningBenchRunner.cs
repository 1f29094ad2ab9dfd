using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using PdServe.Cli.Benchmarking.Scenarios;
using PdServe.Cli.Cluster;
using PdServe.Cli.Terminal;
using PdServe.Engine.Loading;
using PdServe.Pruning.Report;
using Spectre.Console;

namespace PdServe.Cli.Benchmarking.Pruning;

/// <summary>
/// <c>pdserve bench pruning</c>: regenerates bench/pruning/REPORT.md in one command. For each K_D it runs
/// <c>pdserve prune --prefill-skip auto … --eval</c> (the search picks K_P; ShortGPT and the plan, healed or not, with
/// and without the KV policy, scored on held-out windows of the model's context), then times every plan's stages
/// against the unpruned model with <c>bench engine --plan</c> in interleaved rounds, then sends one request per prompt
/// length through <c>pdserve up --plan</c> and records the KV bytes the decode node reports.
/// </summary>
public static class PruningBenchRunner
{
    private const int ContinuationTokens = 64;

    public static async Task<int> RunAsync(PruningBenchOptions options, CliContext context, CancellationToken cancellation)
    {
        ModelDirectory model = ModelDirectory.Open(options.ModelDir);
        int contextTokens = model.Config.MaxPositionEmbeddings;
        int evalPrompt = options.EvalPromptTokens ?? contextTokens - ContinuationTokens;
        Directory.CreateDirectory(options.OutDir);
        var plans = new List<(string Name, string Path, int DecodeSkip)>();
        foreach (int decodeSkip in options.DecodeSkips)
        {
            string planPath = Path.Combine(options.OutDir, $"plan-d{decodeSkip}.json");
            var arguments = new List<string>
            {
                "prune", "--model", options.ModelDir, "--calib", options.CalibPath, "--prefill-skip", "auto",
                "--prefill-kl-budget", Invariant(options.PrefillKlBudget), "--decode-skip", Invariant(decodeSkip), "--kv-layers", "auto",
                "--kv-first", Invariant(options.KvFirst), "--kv-last", Invariant(options.KvLast),
                "--seed", Invariant(options.Seed), "--out", planPath, "--eval", options.HeldoutPath, "--eval-prompt-tokens", Invariant(evalPrompt),
                "--report", options.OutDir,
            };
            if (options.EvalTokens is { } tokens) arguments.AddRange(["--eval-tokens", Invariant(tokens)]);
            if (options.CalibrationPromptTokens is { } calibrationPrompt) arguments.AddRange(["--prompt-tokens", Invariant(calibrationPrompt)]);
            if (options.CalibrationContinuationTokens is { } continuation) arguments.AddRange(["--continuation-tokens", Invariant(continuation)]);
            if (options.Iterations is { } iterations) arguments.AddRange(["--iterations", Invariant(iterations)]);
            if (options.HealMinutes > 0) arguments.AddRange(["--heal", Invariant(options.HealMinutes)]);
            if (options.HealDataPath is { } healData) arguments.AddRange(["--heal-data", healData]);
            await RunStepAsync(context, arguments, cancellation);
            plans.Add(($"K_D {decodeSkip}", planPath, decodeSkip));
        }

        IReadOnlyList<StageSpeed> speeds = await MeasureSpeedsAsync(options, plans, context, cancellation);
        IReadOnlyList<MeasuredKvBytes> kvBytes = await MeasureKvBytesAsync(options, plans, contextTokens, context, cancellation);
        QualityReport.SetMeasurements(options.OutDir, new PruningMeasurements(options.CommandLine, MachineDescription.Current().ToString(), speeds, kvBytes));
        context.Out.WriteLine($"report: {Path.Combine(options.OutDir, QualityReport.MarkdownFileName)}");
        return ExitCodes.Ok;
    }

    /// <summary>Rounds of <c>bench engine</c> over the unpruned model and every plan, interleaved so machine noise hits all alike; medians.</summary>
    private static async Task<IReadOnlyList<StageSpeed>> MeasureSpeedsAsync(PruningBenchOptions options,
        IReadOnlyList<(string Name, string Path, int DecodeSkip)> plans, CliContext context, CancellationToken cancellation)
    {
        string speedDirectory = Path.Combine(options.OutDir, "speed");
        Directory.CreateDirectory(speedDirectory);
        var configurations = new List<(string Name, string? Plan)> { ("unpruned", null) };
        configurations.AddRange(plans.Select(p => (p.Name, (string?)p.Path)));
        var samples = configurations.ToDictionary(c => c.Name, _ => new List<EngineSpeedSample>());
        for (int round = 1; round <= options.SpeedRounds; round++)
        {
            foreach ((string name, string? plan) in configurations)
            {
                string json = Path.Combine(speedDirectory, $"{FileName(name)}-run{round}.json");
                var arguments = new List<string> { "bench", "engine", "--model", options.ModelDir, "--json", json };
                if (plan is not null) arguments.AddRange(["--plan", plan]);
                if (options.Smoke) arguments.Add("--smoke");
                await RunStepAsync(context, arguments, cancellation);
                samples[name].Add(EngineSpeedSample.Read(json, largeBatch: options.Smoke ? 2 : 16));
            }
        }
        EngineSpeedSample baseline = EngineSpeedSample.Median(samples["unpruned"]);
        return configurations.Select(c =>
        {
            EngineSpeedSample median = EngineSpeedSample.Median(samples[c.Name]);
            (int prefillSkip, int decodeSkip) = c.Plan is null ? (0, 0) : Skips(c.Plan);
            return new StageSpeed(c.Name, prefillSkip, decodeSkip, median.PrefillTokensPerSecond, median.DecodeBatch1, median.DecodeBatch16,
                median.PrefillTokensPerSecond / baseline.PrefillTokensPerSecond, median.DecodeBatch1 / baseline.DecodeBatch1,
                median.DecodeBatch16 / baseline.DecodeBatch16);
        }).ToList();
    }

    /// <summary>One cluster per plan (and one without); a request per prompt length that fits the context, its reported bytes.</summary>
    private static async Task<IReadOnlyList<MeasuredKvBytes>> MeasureKvBytesAsync(PruningBenchOptions options,
        IReadOnlyList<(string Name, string Path, int DecodeSkip)> plans, int contextTokens, CliContext context, CancellationToken cancellation)
    {
        var results = new List<MeasuredKvBytes>();
        var configurations = new List<(string Name, string? Plan)> { ("unpruned", null) };
        configurations.AddRange(plans.Select(p => (p.Name, (string?)p.Path)));
        int[] lengths = options.KvPromptLengths.Where(n => n < contextTokens).ToArray();
        foreach (int skipped in options.KvPromptLengths.Except(lengths))
            context.Out.WriteLine($"bench pruning: {skipped}-token prompts skipped: the model's context is {contextTokens} tokens");
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        string modelId = PdServe.Gateway.Model.ServedModel.Load(options.ModelDir, null).Id;
        int vocabulary = ModelDirectory.Open(options.ModelDir).Config.VocabSize;
        foreach ((string name, string? plan) in configurations)
        {
            var arguments = new List<string> { "up", "--model", options.ModelDir, "--port", Invariant(options.Port), "--reuse", "off" };
            if (plan is not null) arguments.AddRange(["--plan", plan]);
            Step(context, arguments);
            using UpCluster cluster = await UpCluster.StartAsync(arguments, TextWriter.Null, TimeSpan.FromMinutes(5), cancellation);
            var random = new Random(options.Seed);
            foreach (int length in lengths)
            {
                // Ordinary ids from the middle of the vocabulary: no special token, the same prompt for every configuration.
                int[] prompt = Enumerable.Range(0, length).Select(_ => random.Next(vocabulary / 4, vocabulary / 2)).ToArray();
                using HttpResponseMessage response = await http.PostAsJsonAsync($"http://127.0.0.1:{options.Port}/v1/completions",
                    new { model = modelId, prompt, max_tokens = 1, temperature = 0 }, cancellation);
                string body = await response.Content.ReadAsStringAsync(cancellation);
                if (!response.IsSuccessStatusCode) throw new CliError($"bench pruning: a {length}-token request to {name}'s cluster failed: {body}");
                JsonElement kv = JsonDocument.Parse(body).RootElement.GetProperty("usage").GetProperty("kv_transfer");
                results.Add(new MeasuredKvBytes(name, length, kv.GetProperty("bytes_full").GetInt64(), kv.GetProperty("bytes_sent").GetInt64()));
            }
        }
        return results;
    }

    private static (int PrefillSkip, int DecodeSkip) Skips(string planPath)
    {
        PdServe.Engine.Planning.PrunePlan plan = PdServe.Engine.Planning.PrunePlan.Load(planPath);
        return (plan.PrefillSkip.Count, plan.DecodeSkip.Count);
    }

    private static void Step(CliContext context, IReadOnlyList<string> arguments)
    {
        context.Out.WriteLine($"== pdserve {string.Join(' ', arguments)}");
    }

    /// <summary>
    /// Runs one documented command as its own pdserve process (each step starts from a fresh process, as a person
    /// running the listed commands would), its output forwarded; a failed step ends the benchmark.
    /// </summary>
    private static async Task RunStepAsync(CliContext context, IReadOnlyList<string> arguments, CancellationToken cancellation)
    {
        Step(context, arguments);
        using ChildProcess step = ChildProcess.Start(arguments[0], PdServeExecutable.StartInfo(arguments), context.Stdout);
        if (await step.WaitForExitAsync(cancellation) != ExitCodes.Ok)
            throw new CliError($"bench pruning: `pdserve {string.Join(' ', arguments)}` failed: {step.LastOutput}");
    }

    private static string FileName(string configuration) => configuration.Replace("K_D ", "d", StringComparison.Ordinal);

    private static string Invariant(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);
}
