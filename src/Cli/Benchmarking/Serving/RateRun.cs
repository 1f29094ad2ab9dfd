namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>What one rate's requests did: every outcome, the time from the first send to the last completion, and the most requests in flight at once.</summary>
public sealed record RateRun(IReadOnlyList<RequestOutcome> Outcomes, double Seconds, int PeakConcurrency);
