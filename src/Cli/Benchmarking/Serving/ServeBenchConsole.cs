using System.Text.Json;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// A serving run as <c>pdserve bench serve</c> shows and records it (<c>bench scenarios</c> runs each row this way): the
/// live progress on stderr, the tables on stdout, every failure on stderr, the JSON report and optionally the plot.
/// </summary>
public static class ServeBenchConsole
{
    public static async Task<ServeBenchReport> RunAsync(ServeBenchOptions options, string commandLine, string jsonPath, string? plotPath,
        CliContext context, CancellationToken cancellationToken)
    {
        var report = await ServeBenchProgress.RunAsync(context, observer => ServeBenchRunner.RunAsync(options, commandLine, observer, cancellationToken));
        context.Out.Write(ServeBenchTable.Create(report));
        context.Out.Write(ServeBenchTable.Latencies(report));
        if (report.Rates.Any(r => r.Turns is not null)) context.Out.Write(ServeBenchTable.Turns(report));
        if (report.SharedPrefix is not null || report.Rates.Any(r => r.CachedTokenShare is not null)) context.Out.Write(ServeBenchTable.PromptReuse(report));
        foreach (string line in ServeBenchTable.FailureLines(report)) context.Stderr.WriteLine($"failed: {line}");
        if (report.TotalCompleted == 0) context.Stderr.WriteLine("pdserve: bench serve: every request failed");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!);
        await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(report, BenchmarkJson.Options) + "\n", cancellationToken);
        if (plotPath is not null) ServeBenchPlot.Save(plotPath, [(report.Model, report)]);
        return report;
    }
}
