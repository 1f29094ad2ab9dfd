namespace PdServe.Cli.Benchmarking.Gateway;

/// <summary>The gateway's added latency: p50 and p99 of a request through it minus the same request made directly.</summary>
public sealed record GatewayOverheadReport(int Concurrency, int CompletionTokens, PathLatency Direct, PathLatency Gateway)
{
    public double AddedP50Ms => Gateway.P50Ms - Direct.P50Ms;
    public double AddedP99Ms => Gateway.P99Ms - Direct.P99Ms;
}
