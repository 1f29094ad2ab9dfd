using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace PdServe.Gateway.Routing;

/// <summary>
/// The decode pool's KV-aware policy (<c>"LoadBalancingPolicy": "PdServeConversationAffinity"</c>): a call whose prompt
/// extends one a decode node parked (the conversation's previous turn, <see cref="ConversationDirectory"/>) goes back to
/// that node while its load is within the bound (<see cref="RoutingOptions.AffinityLoadFactor"/>), so only the new
/// tokens' KV travels; otherwise, or when that node is gone, the least-loaded node serves it cold.
/// </summary>
public sealed class ConversationAffinityPolicy(ConversationDirectory directory, LeastReportedLoadPolicy leastLoad,
    IOptionsMonitor<RoutingOptions> options) : ILoadBalancingPolicy, IPromptAwarePolicy
{
    public const string PolicyName = "PdServeConversationAffinity";

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations) =>
        leastLoad.PickDestination(context, cluster, availableDestinations);

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> available, PromptRoute route)
    {
        if (directory.Find(route.PrefixHashes) is { } parked)
        {
            DestinationState? holder = available.FirstOrDefault(d => NodeAddress.Same(d.Model.Config.Address, parked.Address));
            if (holder is not null && BoundedLoad.Allows(holder, available, leastLoad, options.CurrentValue.AffinityLoadFactor)) return holder;
        }
        return leastLoad.PickDestination(context, cluster, available);
    }
}
