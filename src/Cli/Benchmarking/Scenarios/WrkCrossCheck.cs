using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PdServe.Cli.Benchmarking.Serving;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Benchmarking.Scenarios;

/// <summary>
/// The independent check of <c>bench serve</c>'s throughput: Debian's <c>wrk</c> posts one fixed non-streaming
/// completions request (same prompt length, max_tokens and ignore_eos as the benchmark's) over C keep-alive connections
/// for a fixed time, and its requests/s is compared with <c>bench serve --no-stream --rate inf --max-concurrency C</c>
/// on the same cluster. With ignore_eos every response has exactly max_tokens tokens, so output tokens/s is requests/s
/// times max_tokens for both.
/// </summary>
public static partial class WrkCrossCheck
{
    public sealed record Result(string WrkCommand, double WrkRequestsPerSecond, long WrkRequests, int WrkErrors, string WrkSummary);

    public static bool IsInstalled() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Any(directory => File.Exists(Path.Combine(directory, "wrk")));

    public static async Task<Result> RunAsync(Uri baseUrl, string model, BenchPrompt prompt, int connections, int seconds,
        string scriptPath, CancellationToken cancellationToken)
    {
        string body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model"] = model, ["prompt"] = prompt.PromptField, ["max_tokens"] = prompt.MaxTokens, ["temperature"] = 0, ["ignore_eos"] = true,
        });
        // Lua long brackets hold the JSON verbatim (it contains no "]==]").
        await File.WriteAllTextAsync(scriptPath,
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [==[" + body + "]==]\n", cancellationToken);
        string url = new Uri(baseUrl, "v1/completions").ToString();
        string[] arguments = ["-t", "1", "-c", connections.ToString(CultureInfo.InvariantCulture), "-d", $"{seconds}s", "--timeout", "60s", "-s", scriptPath, url];
        var info = new ProcessStartInfo("wrk") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info) ?? throw new CliError("could not start wrk");
        Task<string> error = process.StandardError.ReadToEndAsync(cancellationToken);
        string output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0) throw new CliError($"wrk failed ({process.ExitCode}): {await error}");

        var rate = RequestsPerSecond().Match(output);
        var total = RequestsTotal().Match(output);
        if (!rate.Success || !total.Success) throw new CliError($"could not read wrk's output: {output}");
        int errors = NonSuccess().Match(output) is { Success: true } bad ? int.Parse(bad.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        errors += SocketErrors().Matches(output).Sum(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        return new Result("wrk " + string.Join(' ', arguments), double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture),
            long.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture), errors, output.Trim());
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex RequestsTotal();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex NonSuccess();

    [GeneratedRegex(@"(?:connect|read|write|timeout) (\d+)")]
    private static partial Regex SocketErrors();
}
