using System.Globalization;
using System.Runtime.InteropServices;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Cluster;

/// <summary>
/// Runs <c>pdserve up</c>: starts a <see cref="LocalCluster"/> (node processes, then the gateway in this process once
/// every node answers <c>/healthz</c>), prints how to reach it, and on Ctrl-C, SIGTERM or SIGHUP stops the gateway and
/// every node it started, also when startup fails half-way. Should this process be killed outright, the nodes stop by
/// themselves (<see cref="ParentWatchdog"/>).
/// </summary>
public static class UpRunner
{
    public static async Task<int> RunAsync(LocalClusterOptions options, CliContext context, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var signals = new SignalHandlers(stop);
        await using var cluster = new LocalCluster(options, "up", context.Stderr, context.Stdout);
        await cluster.StartAsync(stop.Token);
        PrintBanner(context, cluster.Url, cluster.Model!.Id, cluster.Nodes, options.LinkMbit);
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
            context.Stdout.WriteLine("stopping...");
        }
        return ExitCodes.Ok;
    }

    private static void PrintBanner(CliContext context, string url, string modelId, IReadOnlyList<NodeProcess> nodes, int? linkMbit)
    {
        var output = context.Stdout;
        output.WriteLine($"PdServe is up: {url}  (model {modelId})");
        output.WriteLine($"{"pool",-8} {"node",-9} {"address",-24} {"pid",-8} {"threads",-7} cores");
        foreach (var node in nodes)
        {
            var spec = node.Spec;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{spec.Role.ToString().ToLowerInvariant(),-8} {spec.Name,-9} {spec.Address,-24} {node.Pid,-8} {spec.Threads,-7} {string.Join(',', spec.Cores)}"));
        }
        if (linkMbit is { } megabits)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"prefill link: veth to {ShapedLink.NamespaceAddress} shaped to {megabits} Mbit/s each way (tc tbf); KV transfers cross it"));
        output.WriteLine("Try:");
        output.WriteLine($"  curl {url}/v1/completions -H 'Content-Type: application/json' \\");
        output.WriteLine($"    -d '{{\"model\":\"{modelId}\",\"prompt\":\"In the beginning\",\"max_tokens\":32}}'");
        output.WriteLine("Ctrl-C stops the cluster.");
        output.Flush();
    }

    /// <summary>Ctrl-C, SIGTERM and SIGHUP cancel the run (instead of killing this process and orphaning the nodes).</summary>
    private sealed class SignalHandlers : IDisposable
    {
        private readonly PosixSignalRegistration[] registrations;

        public SignalHandlers(CancellationTokenSource stop) =>
            registrations = [.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }.Select(signal =>
                PosixSignalRegistration.Create(signal, context =>
                {
                    context.Cancel = true;
                    stop.Cancel();
                }))];

        public void Dispose()
        {
            foreach (var registration in registrations) registration.Dispose();
        }
    }
}
