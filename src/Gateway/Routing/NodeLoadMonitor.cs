using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;

namespace PdServe.Gateway.Routing;

/// <summary>
/// Polls every node's <c>GET /load</c> (with the HTTP version the cluster's <c>HttpRequest</c> config gives its
/// health probes) and keeps the latest report per address in <see cref="NodeLoadStore"/> for
/// <see cref="LeastReportedLoadPolicy"/>. A node that does not answer loses its report, so the policy falls back to
/// the gateway's own count for it.
/// </summary>
public sealed class NodeLoadMonitor : BackgroundService
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(1);

    private readonly IProxyStateLookup proxyState;
    private readonly IOptionsMonitor<RoutingOptions> options;
    private readonly ILogger<NodeLoadMonitor> logger;
    private readonly NodeLoadStore loads;
    private readonly HttpClient http = new(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) })
    {
        Timeout = RequestTimeout,
    };

    public NodeLoadMonitor(IProxyStateLookup proxyState, NodeLoadStore loads, IOptionsMonitor<RoutingOptions> options,
        ILogger<NodeLoadMonitor> logger)
    {
        this.loads = loads;
        this.proxyState = proxyState;
        this.options = options;
        this.logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await PollOnceAsync(stoppingToken);
            try
            {
                await Task.Delay(options.CurrentValue.LoadPollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task PollOnceAsync(CancellationToken cancellationToken)
    {
        var polls = new List<Task>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string pool in NodePools.All)
        {
            if (!proxyState.TryGetCluster(pool, out var cluster)) continue;
            var request = cluster.Model.Config.HttpRequest;
            Version version = request?.Version ?? HttpVersion.Version20;
            HttpVersionPolicy policy = request?.VersionPolicy ?? HttpVersionPolicy.RequestVersionOrLower;
            foreach (var destination in cluster.Destinations.Values)
            {
                string address = destination.Model.Config.Address.TrimEnd('/');
                if (seen.Add(address)) polls.Add(PollAsync(address, version, policy, cancellationToken));
            }
        }
        loads.RetainOnly(seen);
        await Task.WhenAll(polls);
    }

    private async Task PollAsync(string address, Version version, HttpVersionPolicy policy, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, address + "/load") { Version = version, VersionPolicy = policy };
            using var response = await http.SendAsync(request, cancellationToken);
            response.EnsureSuccessStatusCode();
            var load = await response.Content.ReadFromJsonAsync<NodeLoad>(cancellationToken);
            if (load is not null) loads.Set(address, load);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            if (loads.Remove(address))
                logger.LogDebug("No load report from {Address}: {Reason}", address, e.Message);
        }
    }

    public override void Dispose()
    {
        http.Dispose();
        base.Dispose();
    }
}
