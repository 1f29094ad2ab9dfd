using System.Globalization;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// Service-level objectives for goodput (<c>--goodput ttft:MS,tpot:MS,e2el:MS</c>, any subset, milliseconds): a request
/// counts towards goodput only when it succeeded and meets every limit given. A limit on TTFT or TPOT needs a
/// streaming run (without a stream there is no first-token time).
/// </summary>
public sealed record SloLimits(double? TtftMs, double? TpotMs, double? E2elMs)
{
    public static readonly string[] Metrics = ["ttft", "tpot", "e2el"];

    public bool NeedsStreaming => TtftMs is not null || TpotMs is not null;

    public bool IsMetBy(RequestOutcome outcome)
    {
        if (!outcome.Success) return false;
        if (TtftMs is { } ttft && !(outcome.TtftMs <= ttft)) return false;
        // One-token requests have no time per output token; they cannot miss a TPOT limit.
        if (TpotMs is { } tpot && outcome.TpotMs is { } measured && measured > tpot) return false;
        if (E2elMs is { } e2el && outcome.E2elMs > e2el) return false;
        return true;
    }

    /// <summary>Parses <c>metric:ms[,metric:ms…]</c>; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static SloLimits Parse(string text)
    {
        double? ttft = null, tpot = null, e2el = null;
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            string[] pair = part.Split(':', 2, StringSplitOptions.TrimEntries);
            if (pair.Length != 2)
                throw new FormatException($"'{part}' is not metric:milliseconds (metrics: {string.Join(", ", Metrics)})");
            if (!double.TryParse(pair[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double ms) || !double.IsFinite(ms) || ms <= 0)
                throw new FormatException($"'{pair[1]}' in '{part}' is not a positive number of milliseconds");
            switch (pair[0].ToLowerInvariant())
            {
                case "ttft" when ttft is null: ttft = ms; break;
                case "tpot" when tpot is null: tpot = ms; break;
                case "e2el" when e2el is null: e2el = ms; break;
                case "ttft" or "tpot" or "e2el": throw new FormatException($"'{pair[0]}' is given twice");
                default: throw new FormatException($"unknown metric '{pair[0]}' (metrics: {string.Join(", ", Metrics)})");
            }
        }
        return new SloLimits(ttft, tpot, e2el);
    }

    /// <summary>As <see cref="Parse"/>, false instead of an exception.</summary>
    public static bool TryParse(string text, out SloLimits? limits)
    {
        try
        {
            limits = Parse(text);
            return true;
        }
        catch (FormatException)
        {
            limits = null;
            return false;
        }
    }

    public override string ToString() => string.Join(',', new[] { ("ttft", TtftMs), ("tpot", TpotMs), ("e2el", E2elMs) }
        .Where(l => l.Item2 is not null).Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Item1}:{l.Item2}")));
}
