using PdServe.Benchmarking;

namespace PdServe.Cli.Benchmarking.Engine;

/// <summary>The JSON report of <c>pdserve bench engine --json</c>.</summary>
public sealed record BenchEngineReport(
    string Version,
    DateTime TimestampUtc,
    string? Model,
    string? Shape,
    bool Smoke,
    MachineCeilingsResult Ceilings,
    EngineThroughputReport? Throughput);
