using ScottPlot;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// Latency and throughput against the offered rate, one line per run (a single <c>bench serve</c>, or every scenario):
/// output tokens/s, TTFT p99 and TPOT p99. Rates sit at evenly spaced positions labelled with the rate, so "inf" has a
/// place on the axis.
/// </summary>
public static class ServeBenchPlot
{
    public static void Save(string path, IReadOnlyList<(string Label, ServeBenchReport Report)> runs)
    {
        string[] rates = runs.SelectMany(r => r.Report.Rates.Select(x => x.Rate)).Distinct().OrderBy(RateOrder).ToArray();
        var multiplot = new Multiplot();
        multiplot.AddPlots(3);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        Panel(multiplot.GetPlot(0), runs, rates, "Output throughput", "output tokens/s", r => r.OutputTokenThroughput);
        Panel(multiplot.GetPlot(1), runs, rates, "Time to first token, p99", "ms", r => r.TtftMs.P99);
        Panel(multiplot.GetPlot(2), runs, rates, "Time per output token, p99", "ms", r => r.TpotMs.P99);
        string temporary = path + ".tmp.png";
        multiplot.SavePng(temporary, 1500, 480);
        File.Move(temporary, path, overwrite: true);
    }

    private static void Panel(Plot plot, IReadOnlyList<(string Label, ServeBenchReport Report)> runs, string[] rates, string title,
        string unit, Func<RateResult, double?> value)
    {
        double top = 0;
        foreach (var (label, report) in runs)
        {
            var points = report.Rates.Where(r => value(r) is not null)
                .Select(r => (X: (double)Array.IndexOf(rates, r.Rate), Y: value(r)!.Value)).OrderBy(p => p.X).ToArray();
            if (points.Length == 0) continue;
            var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
            line.LegendText = label;
            top = Math.Max(top, points.Max(p => p.Y));
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, rates.Length).Select(i => (double)i).ToArray(), rates);
        plot.Title(title);
        plot.XLabel("offered request rate (req/s)");
        plot.YLabel(unit);
        // From zero, so a panel does not magnify a small difference into a steep line.
        plot.Axes.SetLimits(-0.3, rates.Length - 0.7, 0, top > 0 ? top * 1.08 : 1);
        if (runs.Count > 1) plot.ShowLegend(Alignment.UpperLeft);
        else plot.HideLegend();
    }

    private static double RateOrder(string rate) =>
        rate == "inf" ? double.PositiveInfinity : double.Parse(rate, System.Globalization.CultureInfo.InvariantCulture);
}
