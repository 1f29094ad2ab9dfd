namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// A node's own counters at one moment (its <c>/metrics</c>): prompt tokens of the calls it accepted
/// (<c>pdserve_prompt_tokens_total</c>, counted when a call is admitted, so it moves with the first call) and calls
/// it completed (<c>pdserve_requests_total{outcome="ok"}</c>).
/// </summary>
public readonly record struct NodeCounters(double AcceptedPromptTokens, double CompletedCalls);
