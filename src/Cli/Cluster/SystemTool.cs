using System.Diagnostics;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Cluster;

/// <summary>
/// Runs a system tool (iproute2's <c>ip</c> and <c>tc</c>) to completion, as the network set-ups of the shaped link and
/// the multi-host rehearsal need: a failure of a step that must succeed is a <see cref="CliError"/> naming the command.
/// </summary>
public static class SystemTool
{
    /// <summary>Runs <paramref name="tool"/>; throws <see cref="CliError"/> with its stderr when it exits non-zero.</summary>
    public static string Run(string tool, params string[] arguments)
    {
        (int code, string output, string error) = TryRun(tool, arguments);
        if (code != 0)
            throw new CliError($"{tool} {string.Join(' ', arguments)} failed ({code}): {error.Trim().ReplaceLineEndings(" ")}");
        return output;
    }

    /// <summary>Runs <paramref name="tool"/> and returns its exit code and output, whatever they are (clean-up steps).</summary>
    public static (int Code, string Output, string Error) TryRun(string tool, params string[] arguments)
    {
        var info = new ProcessStartInfo(tool) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info) ?? throw new CliError($"could not start {tool}");
        // Both pipes drained at once so neither can fill and stall the tool.
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        string text = output.GetAwaiter().GetResult();
        process.WaitForExit();
        return (process.ExitCode, text, error);
    }

    /// <summary>Whether an executable named <paramref name="tool"/> is in a directory of PATH.</summary>
    public static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Any(directory => File.Exists(Path.Combine(directory, tool)));
}
