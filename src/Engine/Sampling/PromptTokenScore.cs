namespace PdServe.Engine.Sampling;

/// <summary>
/// How the model scored one prompt token given the tokens before it: its logprob, its 1-based rank in the vocabulary
/// (1 = the most likely token), and the most likely alternatives when asked for. The first prompt token has none.
/// </summary>
public sealed record PromptTokenScore(int TokenId, float Logprob, int Rank, IReadOnlyList<TokenLogprob> TopLogprobs);
