using Yarp.ReverseProxy.Model;

namespace PdServe.Gateway.Routing;

/// <summary>
/// The bound of consistent hashing with bounded loads: a preferred node takes one more call only while its outstanding
/// work, that call included, stays within <c>factor</c> × the pool's mean (also counting the call), rounded up — so
/// affinity never piles a pool's work onto one node, yet an idle pool always honours it.
/// </summary>
internal static class BoundedLoad
{
    public static bool Allows(DestinationState preferred, IReadOnlyList<DestinationState> available, LeastReportedLoadPolicy load, double factor)
    {
        long total = 1;
        foreach (DestinationState destination in available) total += load.Score(destination).Outstanding;
        double bound = Math.Ceiling(factor * total / available.Count);
        return load.Score(preferred).Outstanding + 1 <= bound;
    }
}
