using ScottPlot;

namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>
/// The chaos run over time: each node's resident memory, each node's KV cache fill, and the output tokens of completed
/// requests per second; red lines mark kills, green lines restarts. A node's restarted process continues its line.
/// </summary>
public static class ChaosPlot
{
    public static void Save(string path, ChaosReport report)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(3);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Rows();
        PerNode(multiplot.GetPlot(0), report, "Resident memory (VmRSS)", "MiB", n => n.RssMiB);
        PerNode(multiplot.GetPlot(1), report, "KV cache usage", "share of the budget", n => n.KvUsage);
        var throughput = multiplot.GetPlot(2);
        throughput.Add.Scatter(report.Samples.Select(s => s.Seconds).ToArray(), report.Samples.Select(s => s.OutputTokensPerSecond).ToArray());
        Decorate(throughput, report, "Output tokens of completed requests", "tokens/s");
        string temporary = path + ".tmp.png";
        multiplot.SavePng(temporary, 1400, 1200);
        File.Move(temporary, path, overwrite: true);
    }

    private static void PerNode(Plot plot, ChaosReport report, string title, string unit, Func<NodeSample, double?> value)
    {
        foreach (string node in report.Samples.SelectMany(s => s.Nodes.Select(n => n.Node)).Distinct())
        {
            var points = report.Samples
                .SelectMany(s => s.Nodes.Where(n => n.Node == node && value(n) is not null).Select(n => (s.Seconds, Value: value(n)!.Value)))
                .ToArray();
            if (points.Length == 0) continue;
            var line = plot.Add.Scatter(points.Select(p => p.Seconds).ToArray(), points.Select(p => p.Value).ToArray());
            line.LegendText = node;
            line.MarkerSize = 0;
        }
        plot.ShowLegend(Alignment.UpperLeft);
        Decorate(plot, report, title, unit);
    }

    private static void Decorate(Plot plot, ChaosReport report, string title, string unit)
    {
        foreach (var kill in report.Kills)
        {
            var killed = plot.Add.VerticalLine(kill.KilledAtSeconds);
            killed.Color = Colors.Red.WithAlpha(0.6);
            if (kill.RestartedAtSeconds is { } restarted)
            {
                var line = plot.Add.VerticalLine(restarted);
                line.Color = Colors.Green.WithAlpha(0.6);
            }
        }
        plot.Title(title);
        plot.XLabel("seconds since the cluster was up (red: kill, green: restart)");
        plot.YLabel(unit);
    }
}
