using System.Collections.Concurrent;

namespace PdServe.Gateway.Routing;

/// <summary>
/// The latest <c>/load</c> report of each node, by address. Written by <see cref="NodeLoadMonitor"/>, read by
/// <see cref="LeastReportedLoadPolicy"/>. Kept apart from the monitor because YARP's config validator needs every
/// load-balancing policy while YARP itself is being built, before the monitor can look at the pools.
/// </summary>
public sealed class NodeLoadStore
{
    private readonly ConcurrentDictionary<string, NodeLoad> loads = new(StringComparer.OrdinalIgnoreCase);

    public bool TryGet(string address, out NodeLoad load) => loads.TryGetValue(address.TrimEnd('/'), out load!);

    public void Set(string address, NodeLoad load) => loads[address.TrimEnd('/')] = load;

    /// <summary>Forgets a node's report; true when there was one.</summary>
    public bool Remove(string address) => loads.TryRemove(address.TrimEnd('/'), out _);

    /// <summary>Forgets every node not in <paramref name="addresses"/> (nodes that left the configuration).</summary>
    public void RetainOnly(IReadOnlySet<string> addresses)
    {
        foreach (string gone in loads.Keys.Where(k => !addresses.Contains(k)).ToList())
            loads.TryRemove(gone, out _);
    }
}
