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
    /// <summary>The generated text (the multiturn dataset's next prompt extends it).</summary>
    public string Text { get; init; } = "";
    /// <summary>Leading prompt tokens served from the prefill node's prefix cache; null when the server does not say.</summary>
    public int? CachedTokens { get; init; }
    /// <summary>The server's KV transfer and reuse counts of this request; null when the server does not report them.</summary>
    public KvTransferUsage? KvTransfer { get; init; }
    /// <summary>Turn of its conversation, from 1 (multiturn dataset); null for a request of a plain dataset.</summary>
    public int? Turn { get; init; }

    /// <summary>Time per output token after the first: (E2E − TTFT) / (tokens − 1); null for one token or no stream.</summary>
    public double? TpotMs => TtftMs is { } ttft && OutputTokens > 1 ? (E2elMs - ttft) / (OutputTokens - 1) : null;

    public static RequestOutcome Failed(string error, double e2elMs, double sentAtSeconds) =>
        new() { Success = false, Error = error, E2elMs = e2elMs, SentAtSeconds = sentAtSeconds };
}
