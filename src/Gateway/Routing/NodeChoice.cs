using Yarp.ReverseProxy.Model;

namespace PdServe.Gateway.Routing;

/// <summary>
/// A node picked for one call. While held it counts in the destination's <see cref="DestinationState.ConcurrentRequestCount"/>,
/// which YARP's forwarder would maintain if the gateway forwarded HTTP, so PowerOfTwoChoices and LeastRequests see
/// the gateway's own calls.
/// </summary>
public sealed class NodeChoice : IDisposable
{
    private int released;

    public NodeChoice(ClusterState cluster, DestinationState destination)
    {
        Cluster = cluster;
        Destination = destination;
        Adjust(destination, +1);
    }

    public ClusterState Cluster { get; }
    public DestinationState Destination { get; }
    public string Pool => Cluster.ClusterId;
    public string Address => Destination.Model.Config.Address.TrimEnd('/');

    public void Dispose()
    {
        if (Interlocked.Exchange(ref released, 1) == 0) Adjust(Destination, -1);
    }

    // The property is a read-modify-write; the gateway is its only writer, so a lock on the destination suffices.
    private static void Adjust(DestinationState destination, int delta)
    {
        lock (destination) destination.ConcurrentRequestCount += delta;
    }
}
