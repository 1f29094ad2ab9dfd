namespace PdServe.Gateway.Routing;

/// <summary>A pool has no available (healthy or not yet probed) node to pick, or is not configured at all.</summary>
public sealed class NoHealthyNodeException(string pool) : Exception($"No healthy node in the {pool} pool")
{
    public string Pool { get; } = pool;
}
