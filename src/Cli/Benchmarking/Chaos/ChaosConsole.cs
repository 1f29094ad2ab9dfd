using System.Text.Json;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>
/// The chaos benchmark as <c>pdserve bench chaos</c> shows and records it: the run (stopped by Ctrl-C or SIGTERM too),
/// the request, kill and verdict tables on stdout, an example of each kind of failure on stderr, the JSON report and
/// optionally the plot.
/// </summary>
public static class ChaosConsole
{
    public static async Task<ChaosReport> RunAsync(ChaosOptions options, string commandLine, string jsonPath, string? plotPath, CliContext context,
        CancellationToken cancellationToken)
    {
        using var interrupt = new InterruptSignal();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, interrupt.Token);
        var report = await new ChaosRunner(options, commandLine, context).RunAsync(stop.Token);

        context.Out.Write(ChaosTable.Requests(report));
        context.Out.Write(ChaosTable.Kills(report));
        context.Out.Write(ChaosTable.Verdicts(report));
        foreach (var example in report.Requests.Examples)
            context.Stderr.WriteLine($"{example.Kind.ToString().ToLowerInvariant()}{(example.Poison is { } p ? $" poison {p}" : "")}: {example.ErrorCode} {example.Detail}".Trim());
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!);
        await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(report, BenchmarkJson.Options) + "\n", CancellationToken.None);
        if (plotPath is not null) ChaosPlot.Save(plotPath, report);
        return report;
    }
}
