namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// What one benchmark request did, timed by the client. Token counts are the server's own (<c>usage</c>); times are
/// milliseconds from the moment the request was sent.
/// </summary>
public sealed record RequestOutcome
{
    public required bool Success { get; init; }
    /// <summary>Why it failed: the HTTP status and OpenAI error message, or the transport error.</summary>
    public string? Error { get; init; }
    public int PromptTokens { get; init; }
    public int OutputTokens { get; init; }
    /// <summary>To the first chunk that carried text; null without streaming.</summary>
    public double? TtftMs { get; init; }
    public double E2elMs { get; init; }
    /// <summary>Gaps between consecutive text chunks (streaming only).</summary>
    public IReadOnlyList<double> ItlMs { get; init; } = [];
    /// <summary>When it was sent, from the start of its rate's run (seconds).</summary>
    public double SentAtSeconds { get; init; }

    /// <summary>Time per output token after the first: (E2E − TTFT) / (tokens − 1); null for one token or no stream.</summary>
    public double? TpotMs => TtftMs is { } ttft && OutputTokens > 1 ? (E2elMs - ttft) / (OutputTokens - 1) : null;

    public static RequestOutcome Failed(string error, double e2elMs, double sentAtSeconds) =>
        new() { Success = false, Error = error, E2elMs = e2elMs, SentAtSeconds = sentAtSeconds };
}
