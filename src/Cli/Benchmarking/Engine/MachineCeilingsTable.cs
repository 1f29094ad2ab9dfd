using System.Globalization;
using PdServe.Cli.Terminal;
using PdServe.Benchmarking;
using Spectre.Console;

namespace PdServe.Cli.Benchmarking.Engine;

/// <summary>The machine ceilings as <c>pdserve bench engine</c> prints them: one row per metric, then the units.</summary>
public static class MachineCeilingsTable
{
    public static void Write(MachineCeilingsResult ceilings, CliContext context)
    {
        var table = new Table()
            .Title($"Machine ceilings ({ceilings.Threads} torch thread{(ceilings.Threads == 1 ? "" : "s")}, best of {ceilings.Repetitions})")
            .AddColumn("metric")
            .AddColumn(new TableColumn("value").RightAligned())
            .AddColumn("unit")
            .AddColumn("measured as");
        foreach (var metric in ceilings.Metrics)
            table.AddRow(
                Markup.Escape(metric.Name),
                metric.Value.ToString(metric.Value >= 100 ? "F0" : "F1", CultureInfo.InvariantCulture),
                Markup.Escape(metric.Unit),
                Markup.Escape(metric.Detail));
        context.Out.Write(table);
        context.Out.WriteLine("GB = 1e9 bytes; GFLOP = 1e9 flops (multiply-add = 2).");
    }
}
