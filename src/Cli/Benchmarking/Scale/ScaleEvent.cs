namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// One node joining or leaving its pool, as a pod does (times in seconds on the rehearsal's clock; "after" figures from
/// the step before). Joining: a new host, the process until <c>/healthz</c> answers 200, its A record added, its first
/// accepted call. Leaving: its A record removed, the preStop wait, SIGTERM, the drain, the exit.
/// </summary>
public sealed record ScaleEvent
{
    /// <summary><c>add</c> or <c>remove</c>.</summary>
    public required string Action { get; init; }
    /// <summary>Why: the scaling step, or the rolling restart and the node it replaces.</summary>
    public required string Reason { get; init; }
    public required string Role { get; init; }
    public required string Node { get; init; }
    public required string Address { get; init; }
    public required string Namespace { get; init; }
    public required double StartedAtSeconds { get; init; }
    /// <summary>Pool sizes once this change is complete.</summary>
    public required int PrefillAfter { get; init; }
    public required int DecodeAfter { get; init; }

    /// <summary>add: process start → <c>/healthz</c> 200 (the readiness probe passes).</summary>
    public double? ReadyAfterSeconds { get; init; }
    /// <summary>add: when the DNS server first answered the node's record.</summary>
    public double? RecordAddedAtSeconds { get; init; }
    /// <summary>add: record answered → the gateway's <c>/pools</c> lists the node.</summary>
    public double? InGatewayPoolAfterSeconds { get; init; }
    /// <summary>add: record answered → the node's first accepted call (its counters); null when none came in time.</summary>
    public double? FirstCallAfterSeconds { get; init; }

    /// <summary>remove: when the DNS server stopped answering the node's record.</summary>
    public double? RecordRemovedAtSeconds { get; init; }
    /// <summary>remove: record gone → the gateway's <c>/pools</c> no longer lists the node.</summary>
    public double? OutOfGatewayPoolAfterSeconds { get; init; }
    /// <summary>remove: record gone → the last call the node accepted (0 when it accepted none after).</summary>
    public double? LastCallAfterSeconds { get; init; }
    public double? SigtermAtSeconds { get; init; }
    /// <summary>remove: SIGTERM → the process exited (its drain).</summary>
    public double? ExitedAfterSeconds { get; init; }
    public int? ExitCode { get; init; }

    /// <summary>What went wrong with this change, when something did.</summary>
    public string? Error { get; init; }
}
