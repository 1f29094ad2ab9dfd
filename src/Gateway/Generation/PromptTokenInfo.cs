namespace PdServe.Gateway.Generation;

/// <summary>
/// One prompt token as the model scored it: its text, logprob and 1-based rank, and the most likely alternatives at
/// its position. The first prompt token has no score (null logprob and rank, no alternatives).
/// </summary>
public sealed record PromptTokenInfo(int TokenId, string Text, float? Logprob, int? Rank, IReadOnlyList<PromptAlternative> Top);
