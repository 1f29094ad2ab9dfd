namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>
/// What one chaos request did: its class, the OpenAI error code of a clean failure, why it was lost, when it ran
/// (seconds from the start of the load) and the tokens the server counted (usage) for a completed one.
/// </summary>
public sealed record ChaosOutcome
{
    public required ChaosOutcomeKind Kind { get; init; }
    public string? Poison { get; init; }
    /// <summary><c>error.code</c> (or its type when it has no code) of a clean failure.</summary>
    public string? ErrorCode { get; init; }
    /// <summary>The error message of a failure, or why the request counts as lost.</summary>
    public string? Detail { get; init; }
    public required double StartedAtSeconds { get; init; }
    public required double EndedAtSeconds { get; init; }
    public int OutputTokens { get; init; }
    /// <summary>Set by the run: a clean failure it excuses (in flight while a decode node was killed, node_unreachable).</summary>
    public bool Excused { get; init; }
}
