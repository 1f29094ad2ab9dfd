using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>One request of the rehearsal's load: when it was sent and ended (seconds on the rehearsal's clock) and how it went.</summary>
public sealed record ScaleRequest(double SentAtSeconds, double EndedAtSeconds, bool Success, string? Error, int PromptTokens, int OutputTokens,
    double? TtftMs, double? TpotMs, double E2elMs)
{
    public static ScaleRequest From(RequestOutcome outcome, double sentAt, double endedAt) => new(sentAt, endedAt, outcome.Success, outcome.Error,
        outcome.PromptTokens, outcome.OutputTokens, outcome.TtftMs, outcome.TpotMs, outcome.E2elMs);
}
