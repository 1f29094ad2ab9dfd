namespace PdServe.Gateway.Generation;

/// <summary>
/// One token as text, its logprob and the most likely alternatives. Only an echoed prompt's first token has neither
/// (null), as OpenAI's completions report it.
/// </summary>
public sealed record TokenLogprobInfo(string Text, float? Logprob, IReadOnlyList<TopLogprobInfo>? Top);
