namespace PdServe.Gateway.Metrics;

/// <summary>One pool's nodes: those available (healthy or not yet probed) and all configured.</summary>
public sealed record PoolSize(string Pool, int Available, int Configured);
