using System.IO.Hashing;
using System.Text;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace PdServe.Gateway.Routing;

/// <summary>
/// The prefill pool's KV-aware policy (<c>"LoadBalancingPolicy": "PdServePrefixAffinity"</c>): prompts that share their
/// first block (<see cref="RoutingOptions.PrefixBlockTokens"/>: a system prompt, a conversation's history) meet on the
/// same prefill node, whose prefix cache then holds their common KV. The node is chosen by rendezvous hashing of the
/// block's hash with each node's address (a node joining or leaving moves only its share of prefixes), skipping nodes
/// over the load bound (<see cref="RoutingOptions.AffinityLoadFactor"/>); least load when all are over it, or for a
/// prompt shorter than one block.
/// </summary>
public sealed class PrefixAffinityPolicy(LeastReportedLoadPolicy leastLoad, IOptionsMonitor<RoutingOptions> options)
    : ILoadBalancingPolicy, IPromptAwarePolicy
{
    public const string PolicyName = "PdServePrefixAffinity";

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations) =>
        leastLoad.PickDestination(context, cluster, availableDestinations);

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> available, PromptRoute route)
    {
        RoutingOptions settings = options.CurrentValue;
        int block = settings.PrefixBlockTokens;
        if (block < 1 || route.Prompt.Count <= block) return leastLoad.PickDestination(context, cluster, available);
        ulong prefix = route.PrefixHashes[block - 1];
        foreach (DestinationState candidate in available.OrderByDescending(d => Rendezvous(prefix, d.Model.Config.Address)))
        {
            if (BoundedLoad.Allows(candidate, available, leastLoad, settings.AffinityLoadFactor)) return candidate;
        }
        return leastLoad.PickDestination(context, cluster, available);
    }

    /// <summary>The node's weight for this prefix: the highest weight wins, and each node's weights are independent of the others.</summary>
    private static ulong Rendezvous(ulong prefix, string address) =>
        XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(NodeAddress.Normalize(address)), seed: unchecked((long)prefix));
}
