using System.Diagnostics;

namespace PdServe.Deploy.Tests;

/// <summary>Runs `kubectl kustomize`, which renders a kustomization offline (no cluster is contacted).</summary>
public static class Kubectl
{
    public static string? Path { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(d => System.IO.Path.Combine(d, "kubectl"))
        .FirstOrDefault(File.Exists);

    /// <summary>The YAML kustomize builds from <paramref name="directory"/>; throws with kubectl's stderr when it fails.</summary>
    public static string Kustomize(string directory)
    {
        var start = new ProcessStartInfo(Path ?? throw new InvalidOperationException("kubectl is not installed"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("kustomize");
        start.ArgumentList.Add(directory);
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl kustomize {directory} took over 60 s");
        }
        if (process.ExitCode != 0) throw new InvalidOperationException($"kubectl kustomize {directory} failed: {stderr.Result}");
        return stdout.Result;
    }
}
