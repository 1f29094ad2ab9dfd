using ScottPlot;

namespace PdServe.Pruning.Report;

/// <summary>perplexity.png: held-out perplexity against the number of blocks the decode stage removes, one line per method.</summary>
public static class PerplexityPlot
{
    public static void Save(string path, IReadOnlyList<ReportRun> runs)
    {
        var plot = new Plot();
        string[] methods = [ReportRow.ShortGpt, ReportRow.PdServe, ReportRow.PdServeWithKv, ReportRow.ShortGptHealed, ReportRow.PdServeHealed,
            ReportRow.PdServeHealedWithKv];
        double unpruned = runs.SelectMany(r => r.Rows).First(r => r.Method == ReportRow.Unpruned).Perplexity;
        foreach (string method in methods)
        {
            // x: blocks removed by decode (ShortGPT removes the same blocks in both stages); the unpruned model starts every line.
            var points = runs.SelectMany(r => r.Rows).Where(r => r.Method == method)
                .Select(r => (X: (double)r.DecodeSkip.Count, Y: r.Perplexity))
                .Append((X: 0.0, Y: unpruned))
                .GroupBy(p => p.X).Select(g => g.First()).OrderBy(p => p.X).ToArray();
            if (points.Length < 2) continue;
            var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
            line.LegendText = method;
        }
        plot.Title("Held-out perplexity vs blocks removed");
        plot.XLabel("blocks removed (decode stage)");
        plot.YLabel("perplexity");
        plot.ShowLegend(Alignment.UpperLeft);
        string temporary = path + ".tmp.png";
        plot.SavePng(temporary, 800, 500);
        File.Move(temporary, path, overwrite: true);
    }
}
