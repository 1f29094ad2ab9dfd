using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using PdServe.Cli.Benchmarking;
using PdServe.Cli.Cluster;
using PdServe.Gateway.Hosting;

namespace PdServe.Cli.Commands;

/// <summary>
/// Runs <c>pdserve up</c>: starts the node processes, waits until each answers <c>/healthz</c>, starts the gateway in
/// this process in front of them, prints how to reach it, and on Ctrl-C, SIGTERM or SIGHUP stops the gateway and every
/// node it started (SIGTERM, then a kill of the node's process tree), also when startup fails half-way. With
/// <c>--link-mbit</c> the prefill nodes run inside a <see cref="ShapedLink"/> namespace, removed after the nodes stop.
/// </summary>
public static class UpRunner
{
    private const string LinkCommand = "up --link-mbit";
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(UpOptions options, CliContext context, CancellationToken cancellationToken)
    {
        // Before anything else, so a machine that cannot shape a link gets the one error line alone.
        if (options.LinkMbit is not null) ShapedLink.RequireRootAndTools(LinkCommand);
        EnsurePortFree(options.Port);
        // Fails fast (exit 2) on a directory without config.json or tokenizer before any process starts.
        var model = ServedModel.Load(options.ModelDir, null);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var signals = new SignalHandlers(stop);
        string nodeToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        var specs = NodeSpec.Plan(options.Prefill, options.Decode, Environment.ProcessorCount);
        var nodes = new List<NodeProcess>();
        ShapedLink? link = null;
        try
        {
            if (options.LinkMbit is { } megabits)
            {
                link = ShapedLink.Create(megabits, LinkCommand);
                specs = BehindLink(specs, link.Namespace);
            }
            foreach (var spec in specs)
                nodes.Add(NodeProcess.Start(spec, options.ModelDir, options.PlanFile, nodeToken, context.Stderr));
            using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) })
                await Task.WhenAll(nodes.Select(n => n.WaitHealthyAsync(http, options.StartupTimeout, stop.Token)));

            await using var gateway = GatewayApplication.Build(new GatewayHostSettings
            {
                Urls = $"http://127.0.0.1:{options.Port}",
                Overrides = GatewaySettings(options, model.Id, nodeToken, specs),
                LogLevel = Microsoft.Extensions.Logging.LogLevel.Warning,
            });
            await gateway.StartAsync(stop.Token);
            PrintBanner(context, GatewayApplication.ListeningAddress(gateway), model.Id, nodes, options.LinkMbit);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                context.Stdout.WriteLine("stopping...");
            }
            await gateway.StopAsync(CancellationToken.None);
            return ExitCodes.Ok;
        }
        finally
        {
            // In parallel: each node may take its grace period to exit.
            await Task.WhenAll(nodes.Select(n => Task.Run(() => n.Stop(StopGrace), CancellationToken.None)));
            foreach (var node in nodes) node.Dispose();
            context.Stdout.WriteLine($"stopped {nodes.Count} node process{(nodes.Count == 1 ? "" : "es")}");
            // Only now: a node still running inside the namespace would keep its veth end alive.
            if (link is not null)
            {
                link.Dispose();
                context.Stdout.WriteLine($"removed network namespace {link.Namespace}");
            }
            context.Stdout.Flush();
        }
    }

    /// <summary>
    /// The prefill nodes moved into <paramref name="networkNamespace"/> at <see cref="ShapedLink.NamespaceAddress"/> (each
    /// keeps its port); decode nodes stay on 127.0.0.1, so every KV pull crosses the shaped veth.
    /// </summary>
    public static IReadOnlyList<NodeSpec> BehindLink(IReadOnlyList<NodeSpec> specs, string networkNamespace) =>
        [.. specs.Select(spec => spec.Role == NodeRole.Prefill
            ? spec with { Host = ShapedLink.NamespaceAddress, NetworkNamespace = networkNamespace }
            : spec)];

    /// <summary>The gateway's configuration for the started nodes: both pools, health checks every second over h2c.</summary>
    public static Dictionary<string, string?> GatewaySettings(UpOptions options, string modelId, string nodeToken, IReadOnlyList<NodeSpec> specs)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:ModelDirectory"] = options.ModelDir,
            ["Gateway:ModelName"] = modelId,
            ["Gateway:NodeToken"] = nodeToken,
        };
        foreach (var role in new[] { NodeRole.Prefill, NodeRole.Decode })
        {
            string prefix = $"ReverseProxy:Clusters:{role.ToString().ToLowerInvariant()}";
            settings[$"{prefix}:LoadBalancingPolicy"] = PdServe.Gateway.Routing.LeastReportedLoadPolicy.PolicyName;
            settings[$"{prefix}:HealthCheck:AvailableDestinationsPolicy"] = "HealthyAndUnknown";
            settings[$"{prefix}:HealthCheck:Active:Enabled"] = "true";
            settings[$"{prefix}:HealthCheck:Active:Interval"] = "00:00:01";
            // Not 1 s: a probe answered across a link saturated by KV transfers (up --link-mbit, bench scenarios at
            // 100 Mbit/s) waited over a second behind the KV, and a busy but healthy prefill node left its pool (503s).
            settings[$"{prefix}:HealthCheck:Active:Timeout"] = "00:00:03";
            settings[$"{prefix}:HealthCheck:Active:Policy"] = "ConsecutiveFailures";
            settings[$"{prefix}:HealthCheck:Active:Path"] = "/healthz";
            settings[$"{prefix}:HealthCheck:Passive:Enabled"] = "true";
            settings[$"{prefix}:HealthCheck:Passive:Policy"] = "TransportFailureRate";
            settings[$"{prefix}:HealthCheck:Passive:ReactivationPeriod"] = "00:00:05";
            settings[$"{prefix}:HttpRequest:Version"] = "2";
            settings[$"{prefix}:HttpRequest:VersionPolicy"] = "RequestVersionExact";
            foreach (var spec in specs.Where(s => s.Role == role))
                settings[$"{prefix}:Destinations:{spec.Name}:Address"] = spec.Address;
        }
        return settings;
    }

    private static void EnsurePortFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
        }
        catch (SocketException)
        {
            throw new CliError($"up: port {port} on 127.0.0.1 is in use; pick another with --port");
        }
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
        private readonly PosixSignalRegistration[] _registrations;

        public SignalHandlers(CancellationTokenSource stop) =>
            _registrations = [.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }.Select(signal =>
                PosixSignalRegistration.Create(signal, context =>
                {
                    context.Cancel = true;
                    stop.Cancel();
                }))];

        public void Dispose()
        {
            foreach (var registration in _registrations) registration.Dispose();
        }
    }
}
