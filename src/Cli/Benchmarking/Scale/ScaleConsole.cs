using System.Text.Json;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// The rehearsal as <c>pdserve bench scale</c> shows and records it: the run (stopped by Ctrl-C or SIGTERM too, which
/// still cleans up), the markdown report on stdout and in its file, the JSON with every request.
/// </summary>
public static class ScaleConsole
{
    public static async Task<ScaleReport> RunAsync(ScaleOptions options, string commandLine, string jsonPath, string markdownPath, CliContext context,
        CancellationToken cancellationToken)
    {
        using var interrupt = new InterruptSignal();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, interrupt.Token);
        var report = await new ScaleRunner(options, commandLine, context).RunAsync(stop.Token);
        string markdown = ScaleMarkdown.Render(report);
        context.Stdout.Write(markdown);
        context.Stdout.Flush();
        foreach (string path in new[] { jsonPath, markdownPath }) Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(report, BenchmarkJson.Options) + "\n", CancellationToken.None);
        await File.WriteAllTextAsync(markdownPath, markdown, CancellationToken.None);
        return report;
    }
}
