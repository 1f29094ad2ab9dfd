using System.Diagnostics;
using System.Net;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Cluster;

/// <summary>
/// A node child process of <c>pdserve up</c> or the shaped-link benchmark: started as <c>pdserve prefill|decode --model DIR
/// [--plan FILE] --host H --port P --threads T</c> (decode nodes with <c>--prefill-nodes</c>, the prefill nodes they may
/// pull from; under <c>ip netns exec NS</c> when its spec names a namespace) with the node token, if any, and this
/// process's PID (<see cref="ParentWatchdog"/>: the node stops when this process is gone, even killed) in its
/// environment, pinned to its cores, its output forwarded with a <c>[name]</c> prefix. Stopped with SIGTERM, then killed
/// (with any children of its own) if it does not exit (<see cref="ChildProcess"/>).
/// </summary>
public sealed class NodeProcess : IDisposable
{
    private readonly ChildProcess process;

    private NodeProcess(NodeSpec spec, ChildProcess process)
    {
        Spec = spec;
        this.process = process;
    }

    public NodeSpec Spec { get; }
    public int Pid => process.Pid;
    public bool HasExited => process.HasExited;
    /// <summary>The exit code once the process has exited.</summary>
    public int ExitCode => process.ExitCode;

    /// <summary>The node's last lines of output (for an error message when it dies).</summary>
    public string LastOutput => process.LastOutput;

    /// <param name="prefillNodes">Addresses of the prefill nodes a decode node may pull KV from (ignored for prefill nodes).</param>
    /// <param name="trace">When set, the node prints its spans as lines (<see cref="PdServe.Telemetry.TracingOptions.SpanLinesVariable"/>) and this takes them.</param>
    /// <param name="reuse">False turns prefix reuse off: no prefix cache on prefill nodes, no parked conversations on decode nodes.</param>
    /// <param name="decodeArguments">Further arguments of a decode node (ignored for prefill nodes).</param>
    public static NodeProcess Start(NodeSpec spec, string modelDirectory, string? planFile, string? nodeToken, IReadOnlyList<string> prefillNodes,
        TextWriter log, TraceTimeline? trace = null, bool reuse = true, IReadOnlyList<string>? decodeArguments = null)
    {
        var arguments = Arguments(spec, modelDirectory, planFile, prefillNodes, reuse, decodeArguments);
        var info = spec.NetworkNamespace is null ? PdServeExecutable.StartInfo(arguments) : InNamespace(spec.NetworkNamespace, PdServeExecutable.StartInfo(arguments));
        // Without a token the node must not inherit one from this process's environment.
        if (nodeToken is null) info.Environment.Remove(PdServe.Contracts.NodeToken.EnvironmentVariable);
        else info.Environment[PdServe.Contracts.NodeToken.EnvironmentVariable] = nodeToken;
        // ip netns exec execs the node in place, so its parent is this process in both cases.
        info.Environment[ParentWatchdog.EnvironmentVariable] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (trace is null) info.Environment.Remove(PdServe.Telemetry.TracingOptions.SpanLinesVariable);
        else info.Environment[PdServe.Telemetry.TracingOptions.SpanLinesVariable] = "1";
        var node = new NodeProcess(spec, ChildProcess.Start(spec.Name, info, log, trace is null ? null : trace.TryAdd));
        node.process.Pin(spec.Cores);
        return node;
    }

    /// <summary>The node's command line after <c>pdserve</c> (see <see cref="Start"/>).</summary>
    public static IReadOnlyList<string> Arguments(NodeSpec spec, string modelDirectory, string? planFile, IReadOnlyList<string> prefillNodes,
        bool reuse = true, IReadOnlyList<string>? decodeArguments = null)
    {
        var arguments = new List<string>
        {
            spec.Role.ToString().ToLowerInvariant(), "--model", modelDirectory, "--host", spec.Host, "--port", spec.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--threads", spec.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (planFile is not null) arguments.AddRange(["--plan", planFile]);
        if (spec.Role == NodeRole.Decode && prefillNodes.Count > 0) arguments.AddRange(["--prefill-nodes", string.Join(',', prefillNodes)]);
        if (!reuse) arguments.AddRange(spec.Role == NodeRole.Prefill ? ["--prefix-cache-mb", "0"] : ["--conversation-cache", "off"]);
        if (spec.Role == NodeRole.Decode && decodeArguments is not null) arguments.AddRange(decodeArguments);
        return arguments;
    }

    /// <summary>Waits until <c>/healthz</c> answers 200 (over h2c, as the gateway probes it).</summary>
    public async Task WaitHealthyAsync(HttpClient http, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
                throw new CliError($"{Spec.Name} exited with code {process.ExitCode} before it was healthy: {LastOutput}");
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
    public void Stop(TimeSpan grace) => process.Stop(grace);

    /// <summary>SIGKILL, no chance to clean up (the chaos benchmark's node failure); returns once it has exited.</summary>
    public void Kill() => process.Kill();

    public void Dispose() => process.Dispose();

    /// <summary>
    /// <paramref name="node"/> run by <c>ip netns exec</c> in <paramref name="networkNamespace"/>. ip execs the command in place, so the
    /// process started is the command itself: signals and Kill reach it.
    /// </summary>
    public static ProcessStartInfo InNamespace(string networkNamespace, ProcessStartInfo node)
    {
        var info = new ProcessStartInfo("ip") { UseShellExecute = false };
        foreach (string argument in (string[])["netns", "exec", networkNamespace, node.FileName, .. node.ArgumentList]) info.ArgumentList.Add(argument);
        return info;
    }
}
