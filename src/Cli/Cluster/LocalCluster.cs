using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using PdServe.Cli.Terminal;
using PdServe.Contracts;
using PdServe.Gateway.Api;
using PdServe.Gateway.Hosting;
using PdServe.Gateway.Model;
using PdServe.Telemetry;

using PdServe.Gateway.Routing;

namespace PdServe.Cli.Cluster;

/// <summary>
/// The cluster of <c>pdserve up</c> and the chaos benchmark on this machine: one node process per <see cref="NodeSpec"/>
/// (decode nodes told the prefill nodes they may pull from), the gateway in this process in front of them once every
/// node answers <c>/healthz</c>, and with <see cref="LocalClusterOptions.LinkMbit"/> the prefill nodes inside a
/// <see cref="ShapedLink"/> namespace. A node can be killed and restarted on its port. Disposing stops the gateway and
/// every node (SIGTERM, then a kill of the node's process tree), also after a start that failed half-way, then removes
/// the namespace; it reports both on <c>status</c>.
/// </summary>
public sealed class LocalCluster(LocalClusterOptions options, string commandName, TextWriter log, TextWriter status) : IAsyncDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);
    private static readonly HttpClient ProbeClient = new() { Timeout = TimeSpan.FromSeconds(2) };

    private readonly string nodeToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
    private readonly List<NodeProcess> nodes = [];
    private readonly List<int> startedPids = [];
    // Null until the nodes are planned: a start that failed before that has nothing to stop or report.
    private IReadOnlyList<NodeSpec>? specs;
    private ShapedLink? link;
    private WebApplication? gateway;
    private bool gatewayStarted;
    private int disposed;
    private readonly TraceTimeline? timeline = options.Trace ? new TraceTimeline(status) : null;

    /// <summary>Set when the cluster traces (<see cref="LocalClusterOptions.Trace"/>): every request's spans, as a timeline.</summary>
    public TraceTimeline? Timeline => timeline;

    /// <summary>The model the gateway serves (loaded before any process starts, so a bad directory fails alone).</summary>
    public ServedModel? Model { get; private set; }

    /// <summary>The gateway's base URL, e.g. <c>http://127.0.0.1:8000</c>; set once started.</summary>
    public string Url { get; private set; } = "";

    /// <summary>The request limits the gateway enforces now.</summary>
    public RequestLimits GatewayLimits => GatewayApplication.Options<RequestLimits>(gateway ?? throw new InvalidOperationException("the cluster is not started"));

    /// <summary>The node processes running now, one per spec, in spec order.</summary>
    public IReadOnlyList<NodeProcess> Nodes
    {
        get
        {
            lock (nodes) return [.. nodes];
        }
    }

    /// <summary>Every node process this cluster ever started, restarts included (to check that none is left).</summary>
    public IReadOnlyList<int> StartedPids
    {
        get
        {
            lock (nodes) return [.. startedPids];
        }
    }

    public string? NetworkNamespace => link?.Namespace;

    /// <summary>The cluster's node token (<c>x-pdserve-token</c>), for a caller that talks to the nodes directly.</summary>
    public string NodeToken => nodeToken;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Before anything else, so a machine that cannot shape a link gets the one error line alone.
        if (options.LinkMbit is not null) ShapedLink.RequireRootAndTools(LinkCommand);
        EnsurePortFree(options.Port);
        // Fails fast (exit 2) on a directory without config.json or tokenizer before any process starts.
        Model = ServedModel.Load(options.ModelDir, null);

        var specs = NodeSpec.Plan(options.Prefill, options.Decode, Environment.ProcessorCount);
        this.specs = specs;
        if (options.LinkMbit is { } megabits)
        {
            link = ShapedLink.Create(megabits, LinkCommand);
            specs = BehindLink(specs, link.Namespace);
        }
        this.specs = specs;
        foreach (var spec in specs) Launch(spec);
        await WaitHealthyAsync(Nodes, cancellationToken);

        gateway = GatewayApplication.Build(new GatewayHostSettings
        {
            Urls = $"http://127.0.0.1:{options.Port}",
            Overrides = GatewaySettings(options.ModelDir, Model.Id, nodeToken, specs, options.Reuse),
            LogLevel = Microsoft.Extensions.Logging.LogLevel.Warning,
            Tracing = TracingOptions.FromEnvironment(TraceTimeline.GatewayService) with { SpanSink = timeline is null ? null : timeline.Add },
        });
        await gateway.StartAsync(cancellationToken);
        gatewayStarted = true;
        Url = GatewayApplication.ListeningAddress(gateway);
    }

    /// <summary>The running process of the node named <paramref name="name"/> (<c>prefill0</c>, <c>decode1</c>, …).</summary>
    public NodeProcess Node(string name) => Nodes.Single(n => n.Spec.Name == name);

    /// <summary>SIGKILLs node <paramref name="name"/>, as a crash would; the gateway finds out by itself.</summary>
    public void Kill(string name) => Node(name).Kill();

    /// <summary>
    /// Starts node <paramref name="name"/> anew on its port after it was killed (or it died) and waits until it answers
    /// <c>/healthz</c>; the gateway's health checks put it back into its pool.
    /// </summary>
    public async Task<NodeProcess> RestartAsync(string name, CancellationToken cancellationToken)
    {
        var old = Node(name);
        old.Stop(StopGrace);
        old.Dispose();
        var node = Launch(old.Spec, replacing: old);
        await node.WaitHealthyAsync(ProbeClient, options.StartupTimeout, cancellationToken);
        return node;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        try
        {
            if (gatewayStarted) await gateway!.StopAsync(CancellationToken.None);
            if (gateway is not null) await gateway.DisposeAsync();
        }
        finally
        {
            if (specs is not null) await StopNodesAsync();
        }
    }

    private async Task StopNodesAsync()
    {
        var nodes = Nodes;
        // In parallel: each node may take its grace period to exit.
        await Task.WhenAll(nodes.Select(n => Task.Run(() => n.Stop(StopGrace), CancellationToken.None)));
        foreach (var node in nodes) node.Dispose();
        status.WriteLine($"stopped {nodes.Count} node process{(nodes.Count == 1 ? "" : "es")}");
        // Only now: a node still running inside the namespace would keep its veth end alive.
        if (link is not null)
        {
            link.Dispose();
            status.WriteLine($"removed network namespace {link.Namespace}");
        }
        status.Flush();
    }

    /// <summary>
    /// The prefill nodes moved into <paramref name="networkNamespace"/> at <see cref="ShapedLink.NamespaceAddress"/> (each
    /// keeps its port); decode nodes stay on 127.0.0.1, so every KV pull crosses the shaped veth.
    /// </summary>
    public static IReadOnlyList<NodeSpec> BehindLink(IReadOnlyList<NodeSpec> specs, string networkNamespace) =>
        [.. specs.Select(spec => spec.Role == NodeRole.Prefill
            ? spec with { Host = ShapedLink.NamespaceAddress, NetworkNamespace = networkNamespace }
            : spec)];

    /// <summary>What a decode node is told it may pull KV from: every prefill node's address (behind the link when shaped).</summary>
    public static IReadOnlyList<string> PrefillAddresses(IReadOnlyList<NodeSpec> specs) =>
        [.. specs.Where(s => s.Role == NodeRole.Prefill).Select(s => s.Address)];

    /// <summary>
    /// The gateway's configuration for the started nodes: both pools, health checks every second over h2c, and the
    /// KV-aware policies (prefix affinity for prefill, conversation affinity for decode) unless reuse is off.
    /// </summary>
    public static Dictionary<string, string?> GatewaySettings(string modelDirectory, string modelId, string nodeToken, IReadOnlyList<NodeSpec> specs,
        bool reuse = true)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:ModelDirectory"] = modelDirectory,
            ["Gateway:ModelName"] = modelId,
            ["Gateway:NodeToken"] = nodeToken,
        };
        foreach (var role in new[] { NodeRole.Prefill, NodeRole.Decode })
        {
            string prefix = $"ReverseProxy:Clusters:{role.ToString().ToLowerInvariant()}";
            settings[$"{prefix}:LoadBalancingPolicy"] = !reuse ? LeastReportedLoadPolicy.PolicyName
                : role == NodeRole.Prefill ? PrefixAffinityPolicy.PolicyName : ConversationAffinityPolicy.PolicyName;
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

    private string LinkCommand => $"{commandName} --link-mbit";

    /// <summary>Starts the node of <paramref name="spec"/>, in the list before anything can fail, so disposal stops it.</summary>
    private NodeProcess Launch(NodeSpec spec, NodeProcess? replacing = null)
    {
        lock (nodes)
        {
            var node = NodeProcess.Start(spec, options.ModelDir, options.PlanFile, nodeToken, PrefillAddresses(specs!), log, timeline, options.Reuse,
                options.DecodeNodeArguments);
            if (replacing is null) nodes.Add(node);
            else nodes[nodes.IndexOf(replacing)] = node;
            startedPids.Add(node.Pid);
            return node;
        }
    }

    /// <summary>Waits until every node is healthy; the first that dies or times out ends the wait for all.</summary>
    private async Task WaitHealthyAsync(IReadOnlyList<NodeProcess> nodes, CancellationToken cancellationToken)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var waits = nodes.Select(async node =>
        {
            try
            {
                await node.WaitHealthyAsync(ProbeClient, options.StartupTimeout, failed.Token);
            }
            catch
            {
                await failed.CancelAsync();
                throw;
            }
        }).ToList();
        try
        {
            await Task.WhenAll(waits);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Task.WhenAll rethrows the first task's exception in list order, which may be a wait the failure cancelled.
            var first = waits.Select(w => w.Exception?.InnerException).First(e => e is not null and not OperationCanceledException)!;
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            throw;
        }
    }

    private void EnsurePortFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
        }
        catch (SocketException)
        {
            throw new CliError($"{commandName}: port {port} on 127.0.0.1 is in use; pick another with --port");
        }
    }
}
