using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace PdServe.Gateway.Routing;

/// <summary>
/// PdServe's load-balancing policy (<c>"LoadBalancingPolicy": "PdServeLeastLoad"</c>): the node with the least
/// outstanding work, taken as the larger of what it last reported (running + waiting from <c>/load</c>) and the
/// gateway's own calls in flight to it (which covers the time between polls); ties go to the emptier KV cache, then
/// to one of the tied nodes at random — not the first listed, which would leave a node that just joined an idle pool
/// without traffic until the others are busy.
/// </summary>
public sealed class LeastReportedLoadPolicy(NodeLoadStore loads) : ILoadBalancingPolicy
{
    public const string PolicyName = "PdServeLeastLoad";

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        DestinationState? best = null;
        (int Outstanding, double KvUsage) bestScore = (int.MaxValue, double.MaxValue);
        int ties = 0;
        foreach (var destination in availableDestinations)
        {
            var score = Score(destination);
            if (score.Outstanding < bestScore.Outstanding
                || (score.Outstanding == bestScore.Outstanding && score.KvUsage < bestScore.KvUsage))
            {
                (best, bestScore) = (destination, score);
                ties = 1;
            }
            else if (score == bestScore && Random.Shared.Next(++ties) == 0)
            {
                // Reservoir sampling: each of the tied nodes ends up chosen with the same chance.
                best = destination;
            }
        }
        return best;
    }

    /// <summary>The node's outstanding work (the larger of its report and the gateway's calls in flight) and KV fill.</summary>
    internal (int Outstanding, double KvUsage) Score(DestinationState destination)
    {
        int local = destination.ConcurrentRequestCount;
        return loads.TryGet(destination.Model.Config.Address, out var load)
            ? (Math.Max(load.Outstanding, local), load.KvUsage)
            : (local, 0);
    }
}
