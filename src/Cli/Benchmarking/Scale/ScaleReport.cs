using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>What <c>pdserve bench scale --out FILE.json</c> writes: the command, the machine, the set-up, every change, every window and every request.</summary>
public sealed record ScaleReport
{
    public required string Command { get; init; }
    public required MachineDescription Machine { get; init; }
    public required string StartedAt { get; init; }
    public required string Model { get; init; }
    public required string GatewayConfig { get; init; }
    public required string PrefillService { get; init; }
    public required string DecodeService { get; init; }
    public required string Subnet { get; init; }
    /// <summary>The DNS server's version line (dnsmasq's own).</summary>
    public required string DnsServer { get; init; }
    public required double DnsRefreshSeconds { get; init; }
    public required double PreStopSeconds { get; init; }
    public required double TerminationGraceSeconds { get; init; }
    public required double SampleIntervalSeconds { get; init; }
    public required double Rate { get; init; }
    public required int MaxConcurrency { get; init; }
    public required int InputLength { get; init; }
    public required int OutputLength { get; init; }
    public required double PhaseSeconds { get; init; }
    public required int Seed { get; init; }
    public required IReadOnlyList<int> PrefillSizes { get; init; }
    public required IReadOnlyList<int> DecodeSizes { get; init; }
    public required bool RollingRestart { get; init; }
    public required double LoadStartedAtSeconds { get; init; }
    public required double LoadEndedAtSeconds { get; init; }
    public required int Sent { get; init; }
    public required int Completed { get; init; }
    public required int Failed { get; init; }
    public required IReadOnlyList<FailureCount> Failures { get; init; }
    /// <summary>Calls the gateway retried on other nodes over the load (<c>pdserve_gateway_retries_total</c>); null when unread.</summary>
    public double? GatewayRetries { get; init; }
    public required IReadOnlyList<ScaleEvent> Events { get; init; }
    public required IReadOnlyList<ScalePhase> Phases { get; init; }
    public required IReadOnlyList<PoolSizeThroughput> PoolSizes { get; init; }
    /// <summary>Namespaces, links, resolver files, folders and processes of this run still present after its clean-up.</summary>
    public required IReadOnlyList<string> Leftovers { get; init; }
    /// <summary>What a dead run had left, removed before this one started.</summary>
    public required IReadOnlyList<string> SweptBeforeStart { get; init; }
    public required IReadOnlyList<ScaleVerdict> Verdicts { get; init; }
    /// <summary>Set when the run stopped early (an error or Ctrl-C); the figures cover what ran.</summary>
    public string? Aborted { get; init; }
    public required IReadOnlyList<ScaleRequest> Requests { get; init; }
}
