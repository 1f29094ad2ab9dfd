using System.Text.Json.Serialization;
using PdServe.Gateway.Routing;
using PdServe.Gateway.Api;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace PdServe.Gateway.Api;

/// <summary>
/// <c>GET /pools</c>: each pool's policy and nodes as YARP sees them now (address, active and passive health,
/// whether it is available, the gateway's calls in flight, the node's last reported load). For operators and tests.
/// </summary>
public static class PoolsEndpoint
{
    public static IResult Get(IProxyStateLookup proxyState, NodeLoadStore loads) =>
        Results.Json(NodePools.All.Select(pool => Describe(pool, proxyState, loads)).ToList(), GatewayJson.Options);

    private static PoolStatus Describe(string pool, IProxyStateLookup proxyState, NodeLoadStore loads)
    {
        if (!proxyState.TryGetCluster(pool, out var cluster)) return new PoolStatus(pool, null, []);
        var available = cluster.DestinationsState.AvailableDestinations.ToHashSet();
        var nodes = cluster.Destinations.Values
            .OrderBy(d => d.DestinationId, StringComparer.Ordinal)
            .Select(d => new NodeStatus(d.DestinationId, d.Model.Config.Address, d.Health.Active.ToString(),
                d.Health.Passive.ToString(), available.Contains(d), d.ConcurrentRequestCount,
                loads.TryGet(d.Model.Config.Address, out var load) ? load : null))
            .ToList();
        return new PoolStatus(pool, cluster.Model.Config.LoadBalancingPolicy, nodes);
    }

    public sealed record PoolStatus(
        [property: JsonPropertyName("pool")] string Pool,
        [property: JsonPropertyName("load_balancing_policy")] string? LoadBalancingPolicy,
        [property: JsonPropertyName("nodes")] IReadOnlyList<NodeStatus> Nodes);

    public sealed record NodeStatus(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("address")] string Address,
        [property: JsonPropertyName("active_health")] string ActiveHealth,
        [property: JsonPropertyName("passive_health")] string PassiveHealth,
        [property: JsonPropertyName("available")] bool Available,
        [property: JsonPropertyName("inflight")] int Inflight,
        [property: JsonPropertyName("load")] NodeLoad? Load);
}
