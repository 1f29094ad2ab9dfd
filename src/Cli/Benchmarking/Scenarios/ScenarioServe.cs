using System.Globalization;
using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Benchmarking.Scenarios;

/// <summary>
/// One <c>bench serve</c> of <c>pdserve bench scenarios</c> against the cluster on the scenarios' port: the arguments a
/// user would type (RESULTS-serving.md lists them for every row) and the options those arguments parse to, which the
/// runner runs in this process.
/// </summary>
public sealed record ScenarioServe(IReadOnlyList<string> Arguments, ServeBenchOptions Options, string JsonFile)
{
    /// <summary>The command line as RESULTS-serving.md shows it.</summary>
    public string CommandLine => "pdserve " + string.Join(' ', Arguments);

    /// <summary>The command line as the JSON report records it (<see cref="ServeBenchReport.Command"/>).</summary>
    public string RecordedCommand => ServeBenchReport.CommandOf(Arguments);

    /// <summary>
    /// The streamed run of a scenario (with the goodput limits) or the non-streamed cross-check: the random dataset of
    /// the settings' lengths and seed, ignore_eos, at <paramref name="rates"/>, its report written to <paramref name="jsonFile"/>.
    /// </summary>
    public static ScenarioServe For(ScenarioSettings settings, int numPrompts, IReadOnlyList<double> rates, int? maxConcurrency, bool stream,
        string jsonFile)
    {
        string url = $"http://127.0.0.1:{settings.Port}";
        string rateList = string.Join(',', rates.Select(ServeBenchOptions.RateLabel));
        string? goodput = stream ? settings.Goodput : null;
        var arguments = new List<string>
        {
            "bench", "serve", "--url", url, "--tokenizer", settings.Model, "--dataset", "random",
            "--input-len", Text(settings.InputLength), "--output-len", Text(settings.OutputLength), "--num-prompts", Text(numPrompts),
            "--rate", rateList, "--seed", Text(settings.Seed), "--ignore-eos",
        };
        if (maxConcurrency is { } c) arguments.AddRange(["--max-concurrency", Text(c)]);
        if (goodput is not null) arguments.AddRange(["--goodput", goodput]);
        if (!stream) arguments.Add("--no-stream");
        arguments.AddRange(["--out", jsonFile]);

        // The rates as the command line carries them (RateLabel rounds), so the run is the one its command line describes.
        ServeBenchOptions.TryParseRates(rateList, out var parsedRates);
        var options = new ServeBenchOptions
        {
            Url = new Uri(url),
            TokenizerDirectory = Path.GetFullPath(settings.Model),
            Dataset = "random",
            InputLength = settings.InputLength,
            OutputLength = settings.OutputLength,
            NumPrompts = numPrompts,
            Rates = parsedRates,
            MaxConcurrency = maxConcurrency,
            Seed = settings.Seed,
            IgnoreEos = true,
            Stream = stream,
            Goodput = goodput is null ? null : SloLimits.Parse(goodput),
        };
        return new ScenarioServe(arguments, options, jsonFile);
    }

    /// <summary>
    /// The streamed run of a multi-turn scenario: the settings' conversations (multiturn dataset, replies of the
    /// settings' output length, ignore_eos so every reply has that length) starting at the conversation rate, with the
    /// goodput limits, its report written to <paramref name="jsonFile"/>.
    /// </summary>
    public static ScenarioServe Conversations(ScenarioSettings settings, string jsonFile)
    {
        string url = $"http://127.0.0.1:{settings.Port}";
        string rate = ServeBenchOptions.RateLabel(settings.ConversationRate);
        var shape = settings.Conversation;
        string think = shape.ThinkTimeSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        var arguments = new List<string>
        {
            "bench", "serve", "--url", url, "--tokenizer", settings.Model, "--dataset", BenchDataset.MultiturnDataset,
            "--conversations", Text(shape.Conversations), "--turns", Text(shape.Turns), "--system-tokens", Text(shape.SystemTokens),
            "--user-tokens", Text(shape.UserTokens), "--think-time", think,
            "--output-len", Text(settings.OutputLength), "--rate", rate, "--seed", Text(settings.Seed), "--ignore-eos",
        };
        if (settings.Goodput is not null) arguments.AddRange(["--goodput", settings.Goodput]);
        arguments.AddRange(["--out", jsonFile]);

        // The values as the command line carries them (rounded to its digits), so the run is the one it describes.
        ServeBenchOptions.TryParseRates(rate, out var parsedRates);
        var options = new ServeBenchOptions
        {
            Url = new Uri(url),
            TokenizerDirectory = Path.GetFullPath(settings.Model),
            Dataset = BenchDataset.MultiturnDataset,
            OutputLength = settings.OutputLength,
            Conversation = shape with { ThinkTimeSeconds = double.Parse(think, CultureInfo.InvariantCulture) },
            Rates = parsedRates,
            Seed = settings.Seed,
            IgnoreEos = true,
            Stream = true,
            Goodput = settings.Goodput is null ? null : SloLimits.Parse(settings.Goodput),
        };
        return new ScenarioServe(arguments, options, jsonFile);
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
