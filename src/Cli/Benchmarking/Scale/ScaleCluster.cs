using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using PdServe.Cli.Cluster;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// The rehearsal's machines on this one: a bridge, the DNS host running <see cref="DnsServer"/>, the gateway host
/// running <c>pdserve gateway</c> with the Kubernetes configuration (pools as headless Service names, resolved through
/// that DNS server), and one host per node (<c>pdserve prefill|decode</c> on the Service's port; decode nodes trust the
/// prefill Service's name). Nodes are launched, published (their A record added), withdrawn (record removed) and
/// terminated (SIGTERM, drain, exit) one at a time, as a Deployment's pods are. Disposing stops every process and
/// removes every host, the bridge, the resolver files and the temporary folder, also after a start that failed half-way.
/// </summary>
public sealed class ScaleCluster(ScaleOptions options, RehearsalServices services, TextWriter log) : IAsyncDisposable
{
    public const string Command = "bench scale";
    private static readonly HttpClient ProbeClient = new() { Timeout = TimeSpan.FromSeconds(2) };

    private readonly ScaleNetworkPlan plan = new(Environment.ProcessId, options.SubnetPrefix);
    private readonly string nodeToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
    private readonly ServiceRecords records = new();
    private readonly List<VirtualHost> hosts = [];
    private readonly List<ScaleNode> nodes = [];
    private readonly List<int> startedPids = [];
    private readonly Dictionary<NodeRole, int> launched = new() { [NodeRole.Prefill] = 0, [NodeRole.Decode] = 0 };
    private string? directory;
    private ScaleBridge? bridge;
    private DnsServer? dns;
    private ChildProcess? gateway;
    private int nextVeth;
    private int nextNodeAddress;
    private int disposed;

    public ScaleNetworkPlan Plan => plan;

    /// <summary>The API key the gateway requires (<c>Gateway:ApiKeys:0</c>, as the Secret gives it).</summary>
    public string ApiKey { get; } = "sk-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();

    public Uri GatewayUrl => new(string.Create(CultureInfo.InvariantCulture, $"http://{plan.GatewayAddress}:{options.GatewayPort}/"));

    /// <summary>Nodes whose record is published and not withdrawn, oldest first.</summary>
    public IReadOnlyList<ScaleNode> Serving(NodeRole role)
    {
        lock (nodes) return [.. nodes.Where(n => n.Role == role && !n.Leaving)];
    }

    /// <summary>Every node with a process, draining ones included (their counters are still read).</summary>
    public IReadOnlyList<ScaleNode> Running
    {
        get
        {
            lock (nodes) return [.. nodes];
        }
    }

    /// <summary>Every process this rehearsal started (nodes, dnsmasq, the gateway), to check that none is left.</summary>
    public IReadOnlyList<int> StartedPids
    {
        get
        {
            lock (nodes) return [.. startedPids];
        }
    }

    /// <summary>Throws <see cref="CliError"/> (exit 2) unless this process is root and <c>ip</c> and dnsmasq are on PATH.</summary>
    public static void RequireRootAndTools()
    {
        if (!Environment.IsPrivilegedProcess)
            throw new CliError($"{Command} needs root (it creates network namespaces, veths, a bridge and runs dnsmasq)");
        if (!SystemTool.OnPath("ip")) throw new CliError($"{Command} needs the 'ip' command (iproute2), which is not on PATH");
        if (!SystemTool.OnPath(DnsServer.Executable))
            throw new CliError($"{Command} needs dnsmasq, which is not on PATH (Debian: apt-get install dnsmasq-base)");
    }

    /// <summary>The bridge, the DNS host and its server; fails if the subnet is in use on this machine.</summary>
    public async Task StartNetworkAsync(CancellationToken cancellationToken)
    {
        string inUse = SystemTool.Run("ip", "-4", "-o", "addr", "show");
        if (inUse.Contains($" {options.SubnetPrefix}.", StringComparison.Ordinal))
            throw new CliError($"{Command}: {options.SubnetPrefix}.0/24 is already in use on this machine; pick another with --subnet");
        directory = ScaleLeftovers.TemporaryDirectory(plan.RunId);
        Directory.CreateDirectory(directory);
        // dnsmasq reads its records as an unprivileged user after start.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                                        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        bridge = ScaleBridge.Create(plan);
        var dnsHost = AddHost("dns", plan.DnsAddress);
        dns = await DnsServer.StartAsync(dnsHost, directory, services.LocalZone, services.Prefill.Host, log, cancellationToken);
        lock (nodes) startedPids.Add(dns.Pid);
    }

    /// <summary>
    /// Starts a node of <paramref name="role"/> on a new host (a new address) and waits until it answers
    /// <c>/healthz</c>; it gets no traffic before <see cref="PublishAsync"/>.
    /// </summary>
    public async Task<ScaleNode> LaunchAsync(NodeRole role, CancellationToken cancellationToken)
    {
        int index;
        lock (nodes) index = launched[role]++;
        string name = $"{role.ToString().ToLowerInvariant()}{index}";
        var host = AddHost(name, plan.NodeAddress(Interlocked.Increment(ref nextNodeAddress) - 1));
        var service = role == NodeRole.Prefill ? services.Prefill : services.Decode;
        // One torch thread, unpinned: a pod with a 1-CPU limit, without the static CPU manager.
        var spec = new NodeSpec(role, index, service.Port, 1, [], host.Address, host.Namespace);
        ScaleNode node;
        lock (nodes)
        {
            var process = NodeProcess.Start(spec, options.ModelDirectory, null, nodeToken, [services.Prefill.Url], log);
            node = new ScaleNode(process, host);
            nodes.Add(node);
            startedPids.Add(process.Pid);
        }
        await node.Process.WaitHealthyAsync(ProbeClient, options.StartupTimeout, cancellationToken);
        return node;
    }

    /// <summary>Adds the nodes' A records to their Services; returns once the DNS server answers them.</summary>
    public async Task PublishAsync(IReadOnlyList<ScaleNode> added, CancellationToken cancellationToken)
    {
        foreach (var node in added) records.Add(ServiceOf(node.Role).Host, node.Host.Address);
        foreach (string name in added.Select(n => ServiceOf(n.Role).Host).Distinct())
            await dns!.PublishAsync(records, name, cancellationToken);
    }

    /// <summary>Removes the node's A record (the first step of a pod's termination); returns once the DNS server no longer answers it.</summary>
    public async Task WithdrawAsync(ScaleNode node, CancellationToken cancellationToken)
    {
        node.Leaving = true;
        string name = ServiceOf(node.Role).Host;
        records.Remove(name, node.Host.Address);
        await dns!.PublishAsync(records, name, cancellationToken);
    }

    /// <summary>
    /// SIGTERM (the node drains: calls in flight finish, new ones are refused), a SIGKILL after <paramref name="grace"/>,
    /// then the host is removed. Returns the seconds from SIGTERM to exit and the exit code.
    /// </summary>
    public async Task<(double Seconds, int ExitCode)> TerminateAsync(ScaleNode node, TimeSpan grace)
    {
        var watch = Stopwatch.StartNew();
        await Task.Run(() => node.Process.Stop(grace), CancellationToken.None);
        double seconds = watch.Elapsed.TotalSeconds;
        int code = ExitCode(node.Process);
        node.Process.Dispose();
        lock (nodes) nodes.Remove(node);
        RemoveHost(node.Host);
        return (seconds, code);
    }

    /// <summary>
    /// The gateway on its own host: <c>pdserve gateway --config FILE --model DIR --host ADDR --port P</c> with the node
    /// token, an API key and <c>Gateway:DnsRefreshPeriod</c> in its environment, as the Deployment gives them; waits until
    /// it answers <c>/healthz</c> and lists an available node in each pool.
    /// </summary>
    public async Task StartGatewayAsync(CancellationToken cancellationToken)
    {
        var host = AddHost("gateway", plan.GatewayAddress);
        var info = NodeProcess.InNamespace(host.Namespace, PdServeExecutable.StartInfo(
        [
            "gateway", "--config", options.GatewayConfig, "--model", options.ModelDirectory, "--host", host.Address,
            "--port", options.GatewayPort.ToString(CultureInfo.InvariantCulture),
        ]));
        info.Environment.Remove(PdServe.Contracts.NodeToken.EnvironmentVariable);
        info.Environment["Gateway__NodeToken"] = nodeToken;
        info.Environment["Gateway__ApiKeys__0"] = ApiKey;
        info.Environment["Gateway__DnsRefreshPeriod"] = TimeSpan.FromSeconds(options.DnsRefreshSeconds).ToString("c", CultureInfo.InvariantCulture);
        info.Environment[ParentWatchdog.EnvironmentVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        lock (nodes)
        {
            gateway = ChildProcess.Start("gateway", info, log);
            startedPids.Add(gateway.Pid);
        }
        var watch = Stopwatch.StartNew();
        while (!await GatewayServesBothPoolsAsync(cancellationToken))
        {
            if (gateway.HasExited) throw new CliError($"{Command}: the gateway exited with code {gateway.ExitCode}: {gateway.LastOutput}");
            if (watch.Elapsed > options.StartupTimeout)
                throw new CliError($"{Command}: the gateway did not list a node in each pool within {options.StartupTimeout.TotalSeconds:0} s: {gateway.LastOutput}");
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>The addresses the gateway lists in <paramref name="pool"/> now (available or not); null when /pools does not answer.</summary>
    public async Task<IReadOnlyList<(string Address, bool Available)>?> GatewayPoolAsync(string pool, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(GatewayUrl, "pools"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
            using var response = await ProbeClient.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode) return null;
            using var pools = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            return [.. pools.RootElement.EnumerateArray()
                .Where(p => p.GetProperty("pool").GetString() == pool)
                .SelectMany(p => p.GetProperty("nodes").EnumerateArray())
                .Select(n => (n.GetProperty("address").GetString()!.TrimEnd('/'), n.GetProperty("available").GetBoolean()))];
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException
                                      || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        if (gateway is not null)
        {
            await Task.Run(() => gateway.Stop(TimeSpan.FromSeconds(10)), CancellationToken.None);
            gateway.Dispose();
        }
        var running = Running;
        await Task.WhenAll(running.Select(n => Task.Run(() => n.Process.Stop(TimeSpan.FromSeconds(10)), CancellationToken.None)));
        foreach (var node in running) node.Process.Dispose();
        dns?.Dispose();
        // Only now: a process still inside a namespace would keep it (and its veth) alive.
        List<VirtualHost> all;
        lock (nodes) all = [.. hosts];
        foreach (var host in all) RemoveHost(host);
        bridge?.Dispose();
        try
        {
            if (directory is not null && Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        ScaleLeftovers.RemoveEmptyNetnsEtc();
    }

    private ServiceEndpoint ServiceOf(NodeRole role) => role == NodeRole.Prefill ? services.Prefill : services.Decode;

    private VirtualHost AddHost(string name, string address)
    {
        var host = VirtualHost.Create(plan, name, Interlocked.Increment(ref nextVeth) - 1, address, plan.DnsAddress, services.SearchDomains);
        lock (nodes) hosts.Add(host);
        return host;
    }

    private void RemoveHost(VirtualHost host)
    {
        host.Dispose();
        lock (nodes) hosts.Remove(host);
    }

    private async Task<bool> GatewayServesBothPoolsAsync(CancellationToken cancellationToken)
    {
        foreach (string pool in (string[])["prefill", "decode"])
        {
            var listed = await GatewayPoolAsync(pool, cancellationToken);
            if (listed is null || !listed.Any(n => n.Available)) return false;
        }
        return true;
    }

    private static int ExitCode(NodeProcess process)
    {
        try
        {
            return process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return -1;
        }
    }
}
