using PdServe.Gateway.Metrics;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace PdServe.Gateway.Routing;

/// <summary>
/// Picks a node of a pool the way YARP would pick a destination: among the cluster's available (healthy or not yet
/// probed) destinations, by the cluster's configured load-balancing policy (PowerOfTwoChoices when none is set).
/// Also counts the pools' nodes for the metrics.
/// </summary>
public sealed class NodeSelector : IPoolCensus
{
    private readonly IProxyStateLookup proxyState;
    private readonly Dictionary<string, ILoadBalancingPolicy> policies;

    public NodeSelector(IProxyStateLookup proxyState, IEnumerable<ILoadBalancingPolicy> policies)
    {
        this.proxyState = proxyState;
        this.policies = policies.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>True when the pool is configured with at least one destination (healthy or not).</summary>
    public bool HasNodes(string pool) =>
        proxyState.TryGetCluster(pool, out var cluster) && cluster.Destinations.Count > 0;

    /// <summary>Each pool's available destinations now, and how many it is configured with (after DNS resolution).</summary>
    public IEnumerable<PoolSize> Count() => NodePools.All.Select(pool => proxyState.TryGetCluster(pool, out var cluster)
        ? new PoolSize(pool, cluster.DestinationsState.AvailableDestinations.Count, cluster.Destinations.Count)
        : new PoolSize(pool, 0, 0));

    /// <summary>
    /// Picks a node, avoiding <paramref name="avoid"/> (nodes that just failed this request) while others are
    /// available; a prompt-aware policy also sees <paramref name="route"/>. Throws <see cref="NoHealthyNodeException"/>
    /// when the pool has no available node.
    /// </summary>
    public NodeChoice Pick(string pool, HttpContext context, IReadOnlyCollection<DestinationState> avoid, PromptRoute? route = null)
    {
        if (!proxyState.TryGetCluster(pool, out var cluster))
            throw new NoHealthyNodeException(pool);
        IReadOnlyList<DestinationState> available = cluster.DestinationsState.AvailableDestinations;
        if (avoid.Count > 0)
        {
            var others = available.Where(d => !avoid.Contains(d)).ToList();
            if (others.Count > 0) available = others;
        }
        if (available.Count == 0)
            throw new NoHealthyNodeException(pool);
        string policyName = cluster.Model.Config.LoadBalancingPolicy ?? LoadBalancingPolicies.PowerOfTwoChoices;
        if (!policies.TryGetValue(policyName, out var policy))
            throw new InvalidOperationException($"Cluster '{pool}' names unknown load-balancing policy '{policyName}'");
        DestinationState? picked = available.Count == 1
            ? available[0]
            : route is not null && policy is IPromptAwarePolicy promptAware
                ? promptAware.PickDestination(context, cluster, available, route)
                : policy.PickDestination(context, cluster, available);
        DestinationState destination = picked ?? throw new NoHealthyNodeException(pool);
        return new NodeChoice(cluster, destination);
    }
}
