namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>
/// One SIGKILL of a node and its restart on the same port, seconds from the start of the load: when it was killed,
/// how long until the gateway's pool showed it unavailable, when the new process started and answered /healthz, and
/// how long until the pool showed it available again. Null: not seen within the wait.
/// </summary>
public sealed record NodeKill
{
    public required string Node { get; init; }
    public required string Role { get; init; }
    public required int KilledPid { get; init; }
    public required double KilledAtSeconds { get; init; }
    /// <summary>Requests of the client in flight at the kill.</summary>
    public required int InFlightAtKill { get; init; }
    public double? EvictedAfterSeconds { get; init; }
    public int? RestartedPid { get; init; }
    public double? RestartedAtSeconds { get; init; }
    /// <summary>From the restart to the first 200 of the new process's /healthz.</summary>
    public double? HealthyAfterSeconds { get; init; }
    /// <summary>From the restart to the pool showing the node available.</summary>
    public double? RejoinedAfterSeconds { get; init; }
    public string? Error { get; init; }
}
