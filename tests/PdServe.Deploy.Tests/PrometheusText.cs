namespace PdServe.Deploy.Tests;

/// <summary>The metric names in a Prometheus text exposition (samples, not HELP or TYPE lines).</summary>
public static class PrometheusText
{
    public static IReadOnlySet<string> MetricNames(string exposition)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in exposition.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int end = line.IndexOfAny(['{', ' ']);
            if (end > 0) names.Add(line[..end]);
        }
        return names;
    }

    /// <summary>The metric a PromQL series selector names: the identifier before its label matchers.</summary>
    public static string SelectedMetric(string seriesQuery)
    {
        int end = seriesQuery.IndexOf('{');
        return (end < 0 ? seriesQuery : seriesQuery[..end]).Trim();
    }
}
