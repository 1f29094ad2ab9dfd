using System.Globalization;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// Reads sample values out of Prometheus text exposition (<c>name{label="v",…} value</c>). Written by hand: the only
/// Prometheus package here (prometheus-net) exports metrics but does not parse them, and the benchmark needs a few
/// counters only.
/// </summary>
public static class PrometheusText
{
    /// <summary>The sum of every sample of <paramref name="metric"/> whose labels include all of <paramref name="labels"/>; null when none.</summary>
    public static double? Sum(string exposition, string metric, IReadOnlyDictionary<string, string>? labels = null)
    {
        double? sum = null;
        foreach (string raw in exposition.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#' || !line.StartsWith(metric, StringComparison.Ordinal)) continue;
            string rest = line[metric.Length..];
            var sampleLabels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (rest.StartsWith('{'))
            {
                int close = rest.IndexOf('}');
                if (close < 0) continue;
                foreach (var (name, value) in Labels(rest[1..close])) sampleLabels[name] = value;
                rest = rest[(close + 1)..];
            }
            else if (rest.Length == 0 || !char.IsWhiteSpace(rest[0]))
                continue; // a longer metric name that starts with this one
            string[] fields = rest.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || !double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double sample)) continue;
            if (labels is not null && labels.Any(l => !sampleLabels.TryGetValue(l.Key, out string? v) || v != l.Value)) continue;
            sum = (sum ?? 0) + sample;
        }
        return sum;
    }

    private static IEnumerable<(string Name, string Value)> Labels(string text)
    {
        int i = 0;
        while (i < text.Length)
        {
            int equals = text.IndexOf('=', i);
            if (equals < 0 || equals + 1 >= text.Length || text[equals + 1] != '"') yield break;
            string name = text[i..equals].Trim().TrimStart(',').Trim();
            var value = new System.Text.StringBuilder();
            int j = equals + 2;
            for (; j < text.Length && text[j] != '"'; j++)
            {
                if (text[j] == '\\' && j + 1 < text.Length)
                {
                    j++;
                    value.Append(text[j] == 'n' ? '\n' : text[j]);
                }
                else value.Append(text[j]);
            }
            yield return (name, value.ToString());
            i = j + 1;
        }
    }
}
