using System.Globalization;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>The validated options of <c>pdserve bench serve</c>.</summary>
public sealed record ServeBenchOptions
{
    public required Uri Url { get; init; }
    public string? ApiKey { get; init; }
    /// <summary>The model name to request; null asks <c>/v1/models</c> for the first.</summary>
    public string? Model { get; init; }
    /// <summary>"random", "multiturn", "shared-prefix" or "jsonl:FILE" (<see cref="BenchDataset"/>).</summary>
    public string Dataset { get; init; } = BenchDataset.RandomDataset;
    /// <summary>
    /// Model directory whose tokenizer draws the random dataset's token ids; null asks the server's <c>/tokenize</c>
    /// (see <see cref="ServerTokenPool"/>), so the run works against any model the server runs.
    /// </summary>
    public string? TokenizerDirectory { get; init; }
    public int InputLength { get; init; } = 256;
    public int OutputLength { get; init; } = 64;
    public double RangeRatio { get; init; }
    /// <summary>Requests per rate; the multiturn dataset sends <see cref="ConversationShape.RequestsPerRate"/> instead.</summary>
    public int NumPrompts { get; init; } = 100;
    /// <summary>The multiturn dataset's conversations.</summary>
    public ConversationShape Conversation { get; init; } = new();
    /// <summary>The shared-prefix dataset's prompts.</summary>
    public SharedPrefixShape SharedPrefix { get; init; } = new();
    /// <summary>Requests per second, one run each; <see cref="double.PositiveInfinity"/> sends everything at once.</summary>
    public IReadOnlyList<double> Rates { get; init; } = [double.PositiveInfinity];
    public int? MaxConcurrency { get; init; }
    public int Seed { get; init; }
    public bool IgnoreEos { get; init; }
    public bool Stream { get; init; } = true;
    public SloLimits? Goodput { get; init; }
    /// <summary>Requests sent before the first rate and not counted (JIT, first touch of buffers, connections).</summary>
    public int WarmupRequests { get; init; } = 4;
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(10);

    public static string RateLabel(double rate) =>
        double.IsPositiveInfinity(rate) ? "inf" : rate.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>Parses <c>--rate</c>'s comma-separated request rates: positive numbers, or <c>inf</c>.</summary>
    public static bool TryParseRates(string text, out IReadOnlyList<double> rates)
    {
        var parsed = new List<double>();
        rates = parsed;
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Equals("inf", StringComparison.OrdinalIgnoreCase)) parsed.Add(double.PositiveInfinity);
            else if (double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) && double.IsFinite(rate) && rate > 0) parsed.Add(rate);
            else return false;
        }
        return parsed.Count > 0;
    }
}
