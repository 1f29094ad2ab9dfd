using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PdServe.Nodes.Tests;

/// <summary>
/// `pdserve prefill|decode` as a child process (the pdserve.dll built beside these tests), ready once it prints its
/// "node ready" line. Disposing kills it by its PID if it is still running.
/// </summary>
public sealed class NodeProcess : IDisposable
{
    private readonly Process process;
    private readonly TaskCompletionSource<string> ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Text.StringBuilder output = new();

    private NodeProcess(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pdserve.dll"));
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Record(e.Data);
        process.ErrorDataReceived += (_, e) => Record(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Pid => process.Id;
    public string Output
    {
        get
        {
            lock (output) return output.ToString();
        }
    }

    private void Record(string? line)
    {
        if (line is null) return;
        lock (output) output.AppendLine(line);
        if (line.Contains("node ready on", StringComparison.Ordinal)) ready.TrySetResult(line);
    }

    public static async Task<NodeProcess> StartAsync(params string[] arguments)
    {
        var node = new NodeProcess(arguments);
        try
        {
            Task exited = node.process.WaitForExitAsync();
            Task first = await Task.WhenAny(node.ready.Task, exited, Task.Delay(TimeSpan.FromSeconds(180)));
            if (first != node.ready.Task) throw new InvalidOperationException($"pdserve {arguments[0]} did not become ready:\n{node.Output}");
            return node;
        }
        catch
        {
            node.Dispose();
            throw;
        }
    }

    /// <summary>A port that was free a moment ago (the child binds it; a clash is reported by the child).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>SIGKILL: the process dies without closing anything.</summary>
    public void Kill() => process.Kill();

    /// <summary>SIGTERM: graceful shutdown; returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (Process signal = Process.Start("kill", ["-TERM", Pid.ToString()]))
            await signal.WaitForExitAsync();
        await process.WaitForExitAsync().WaitAsync(timeout);
        return process.ExitCode;
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill();
        process.WaitForExit();
        process.Dispose();
    }
}
