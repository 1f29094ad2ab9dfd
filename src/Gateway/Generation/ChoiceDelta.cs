namespace PdServe.Gateway.Generation;

/// <summary>
/// New output of one choice: released text, the tokens it came from (with logprobs, when asked for), and the finish
/// reason once the choice is complete ("stop" or "length").
/// </summary>
public sealed record ChoiceDelta(int Index, string Text, IReadOnlyList<TokenLogprobInfo> Tokens, string? FinishReason);
