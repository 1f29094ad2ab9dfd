namespace PdServe.Gateway.Generation;

/// <summary>
/// New output of one choice: released text, the tokens it came from (with logprobs, when asked for), and the finish
/// reason once the choice is complete ("stop" or "length"). A choice's first delta may instead come from its prompt
/// (<see cref="FromPrompt"/>): the echoed prompt text and tokens, and <see cref="Prompt"/> when prompt logprobs were asked.
/// </summary>
public sealed record ChoiceDelta(int Index, string Text, IReadOnlyList<TokenLogprobInfo> Tokens, string? FinishReason)
{
    public bool FromPrompt { get; init; }
    public IReadOnlyList<PromptTokenInfo>? Prompt { get; init; }
}
