namespace PdServe.Engine.Sampling;

/// <summary>A token with its log-probability under the model (before temperature, top-k and top-p).</summary>
public readonly record struct TokenLogprob(int TokenId, float Logprob);

/// <summary>The token chosen for one sequence, its logprob, and the most likely alternatives when asked for.</summary>
public sealed record SampledToken(int TokenId, float Logprob, IReadOnlyList<TokenLogprob> TopLogprobs);
