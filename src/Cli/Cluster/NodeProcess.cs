using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;

namespace PdServe.Cli.Cluster;

/// <summary>
/// A node child process of <c>pdserve up</c> or the shaped-link benchmark: started as <c>pdserve prefill|decode --model DIR
/// [--plan FILE] --host H --port P --threads T</c> (under <c>ip netns exec NS</c> when its spec names a namespace) with the
/// node token, if any, in its environment, pinned to its cores, its output forwarded with a <c>[name]</c> prefix.
/// Stopped with SIGTERM, then killed (with any children of its own) if it does not exit.
/// </summary>
public sealed class NodeProcess : IDisposable
{
    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly Queue<string> _lastLines = new();

    private NodeProcess(NodeSpec spec, Process process)
    {
        Spec = spec;
        _process = process;
    }

    public NodeSpec Spec { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>The node's last lines of output (for an error message when it dies).</summary>
    public string LastOutput
    {
        get
        {
            lock (_lastLines) return string.Join(" | ", _lastLines);
        }
    }

    public static NodeProcess Start(NodeSpec spec, string modelDirectory, string? planFile, string? nodeToken, TextWriter log)
    {
        var arguments = new List<string>
        {
            spec.Role.ToString().ToLowerInvariant(), "--model", modelDirectory, "--host", spec.Host, "--port", spec.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--threads", spec.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (planFile is not null) arguments.AddRange(["--plan", planFile]);
        var info = spec.NetworkNamespace is null ? PdServeExecutable.StartInfo(arguments) : InNamespace(spec.NetworkNamespace, PdServeExecutable.StartInfo(arguments));
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        // Without a token the node must not inherit one from this process's environment.
        if (nodeToken is null) info.Environment.Remove(PdServe.KvTransfer.NodeToken.EnvironmentVariable);
        else info.Environment[PdServe.KvTransfer.NodeToken.EnvironmentVariable] = nodeToken;
        var process = Process.Start(info) ?? throw new CliError($"could not start {spec.Name}");
        var node = new NodeProcess(spec, process);
        process.OutputDataReceived += (_, e) => node.Forward(e.Data, log);
        process.ErrorDataReceived += (_, e) => node.Forward(e.Data, log);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        node.Pin();
        return node;
    }

    /// <summary>Waits until <c>/healthz</c> answers 200 (over h2c, as the gateway probes it).</summary>
    public async Task WaitHealthyAsync(HttpClient http, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
                throw new CliError($"{Spec.Name} exited with code {_process.ExitCode} before it was healthy: {LastOutput}");
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, Spec.Address + "/healthz")
                {
                    Version = HttpVersion.Version20,
                    VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                };
                using var response = await http.SendAsync(request, cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The client's per-probe timeout, not a stop: a node still busy loading (or a slow shaped link) answers later.
            }
            if (watch.Elapsed > timeout)
                throw new CliError($"{Spec.Name} was not healthy within {timeout.TotalSeconds:0} s: {LastOutput}");
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>SIGTERM, then a kill of the process tree if it is still running after <paramref name="grace"/>.</summary>
    public void Stop(TimeSpan grace)
    {
        if (_process.HasExited) return;
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) _ = Kill(_process.Id, SigTerm);
        if (!_process.WaitForExit(grace))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Stop(TimeSpan.Zero);
        _process.Dispose();
    }

    // ip execs the command in place, so the process started here is the node itself: signals and Kill reach it.
    private static ProcessStartInfo InNamespace(string networkNamespace, ProcessStartInfo node)
    {
        var info = new ProcessStartInfo("ip") { UseShellExecute = false };
        foreach (string argument in (string[])["netns", "exec", networkNamespace, node.FileName, .. node.ArgumentList]) info.ArgumentList.Add(argument);
        return info;
    }

    private void Forward(string? line, TextWriter log)
    {
        if (line is null) return;
        lock (_lastLines)
        {
            _lastLines.Enqueue(line);
            if (_lastLines.Count > 3) _lastLines.Dequeue();
        }
        lock (log) log.WriteLine($"[{Spec.Name}] {line}");
    }

    // Pinning right after start covers the threads the node creates later (they inherit the main thread's mask).
    private void Pin()
    {
        if (!OperatingSystem.IsLinux() || Spec.Cores.Count == 0 || Spec.Cores.Max() >= 63) return;
        long mask = Spec.Cores.Aggregate(0L, (m, core) => m | (1L << core));
        try
        {
            _process.ProcessorAffinity = (IntPtr)mask;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // The node may already have exited (it reports why); pinning is an optimisation.
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
