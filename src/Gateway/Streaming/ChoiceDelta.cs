namespace PdServe.Gateway.Streaming;

/// <summary>
/// New output of one choice: released text, the tokens it came from (with logprobs, when asked for), and the finish
/// reason once the choice is complete ("stop" or "length").
/// </summary>
public sealed record ChoiceDelta(int Index, string Text, IReadOnlyList<TokenLogprobInfo> Tokens, string? FinishReason);

/// <summary>One generated token as text, its logprob and the most likely alternatives.</summary>
public sealed record TokenLogprobInfo(string Text, float Logprob, IReadOnlyList<TopLogprobInfo> Top);

public sealed record TopLogprobInfo(string Text, float Logprob);
