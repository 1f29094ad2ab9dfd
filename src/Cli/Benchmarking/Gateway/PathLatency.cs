namespace PdServe.Cli.Benchmarking.Gateway;

/// <summary>Latency percentiles of one way of making the same request.</summary>
public sealed record PathLatency(string Path, int Requests, double P50Ms, double P99Ms, double MeanMs);
