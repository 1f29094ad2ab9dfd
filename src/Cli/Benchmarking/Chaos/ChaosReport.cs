namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>
/// What <c>pdserve bench chaos --out FILE.json</c> writes: the exact command, the machine, the workload, how every
/// request ended, every kill and restart with its timings, the per-second time series and the verdicts. Times are
/// seconds from the moment the cluster was up.
/// </summary>
public sealed record ChaosReport
{
    public required string Command { get; init; }
    public required MachineDescription Machine { get; init; }
    public required string StartedAt { get; init; }
    public required string Model { get; init; }
    public required int Prefill { get; init; }
    public required int Decode { get; init; }
    public required double Minutes { get; init; }
    public required double Load { get; init; }
    public required double KillEverySeconds { get; init; }
    public required double PoisonEverySeconds { get; init; }
    public required double CancelShare { get; init; }
    public required int InputLength { get; init; }
    public required int OutputLength { get; init; }
    public required int Seed { get; init; }
    /// <summary>Which nodes the run kills: those of pools with two nodes or more (a pool's only node would take the service down).</summary>
    public required IReadOnlyList<string> KillableNodes { get; init; }
    public required double SaturationSeconds { get; init; }
    public required int SaturationConcurrency { get; init; }
    public required double SaturationRequestsPerSecond { get; init; }
    public required double SaturationOutputTokensPerSecond { get; init; }
    public required double OfferedRequestsPerSecond { get; init; }
    public required double LoadStartedAtSeconds { get; init; }
    public required double LoadEndedAtSeconds { get; init; }
    public required ChaosCounts Requests { get; init; }
    /// <summary>Calls the gateway retried on another node before the first token (pdserve_gateway_retries_total over the load); null without metrics.</summary>
    public double? RetriesBeforeFirstToken { get; init; }
    public required IReadOnlyList<NodeKill> Kills { get; init; }
    /// <summary>From the end of the load to every node reporting no KV in use and no request (null: not within the wait).</summary>
    public double? KvDrainedAfterSeconds { get; init; }
    public required IReadOnlyList<NodeSample> AfterDrain { get; init; }
    public required IReadOnlyList<int> ProcessesLeft { get; init; }
    public required string RssDefinition { get; init; }
    public required IReadOnlyList<RssGrowth> Rss { get; init; }
    public required IReadOnlyList<ChaosVerdict> Verdicts { get; init; }
    public required IReadOnlyList<ChaosSample> Samples { get; init; }

    public bool Failed => Verdicts.Any(v => v.Fails);
}

/// <summary>
/// How the chaos run's requests ended. Collateral: clean failures of ordinary requests other than
/// <c>node_unreachable</c> while a decode node was killed during the request (its stream broke after output reached
/// the client, so no retry was possible). Poison requests are counted apart and must all complete (the same excuse
/// applies to them).
/// </summary>
public sealed record ChaosCounts
{
    public required int Sent { get; init; }
    public required int Completed { get; init; }
    public required int Cancelled { get; init; }
    public required int Failed { get; init; }
    public required IReadOnlyDictionary<string, int> FailedByCode { get; init; }
    public required int Excused { get; init; }
    public required int Lost { get; init; }
    public required int Collateral { get; init; }
    public required int PoisonSent { get; init; }
    public required int PoisonCompleted { get; init; }
    /// <summary>Poison requests that failed with node_unreachable while a decode node was killed during them.</summary>
    public required int PoisonExcused { get; init; }
    public required IReadOnlyDictionary<string, int> PoisonSentByVariant { get; init; }
    /// <summary>Up to ten lost, collateral and failed poison requests, for a first look.</summary>
    public required IReadOnlyList<ChaosOutcome> Examples { get; init; }
}
