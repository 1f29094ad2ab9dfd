using System.Globalization;
using PdServe.Cli.Terminal;
using Spectre.Console;

namespace PdServe.Cli.Benchmarking.Gateway;

/// <summary>What <c>pdserve bench gateway</c> prints: each path's latencies and what the gateway adds.</summary>
public static class GatewayOverheadTable
{
    public static void Write(GatewayOverheadReport report, CliContext context)
    {
        string Ms(double value) => value.ToString("F3", CultureInfo.InvariantCulture);
        var table = new Table()
            .Title($"Gateway overhead: {report.Direct.Requests} requests per path, concurrency {report.Concurrency}, {report.CompletionTokens} tokens each")
            .AddColumn("path").AddColumn(new TableColumn("p50 ms").RightAligned()).AddColumn(new TableColumn("p99 ms").RightAligned())
            .AddColumn(new TableColumn("mean ms").RightAligned());
        foreach (var s in new[] { report.Direct, report.Gateway })
            table.AddRow(Markup.Escape(s.Path), Ms(s.P50Ms), Ms(s.P99Ms), Ms(s.MeanMs));
        table.AddRow("added by the gateway", Ms(report.AddedP50Ms), Ms(report.AddedP99Ms), Ms(report.Gateway.MeanMs - report.Direct.MeanMs));
        context.Out.Write(table);
    }
}
