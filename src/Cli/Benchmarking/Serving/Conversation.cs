namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// One scripted conversation of the <c>multiturn</c> dataset: the shared system prompt, a user message per turn and
/// the think time before each turn. The assistant's part is whatever the server answers, so a turn's prompt is built
/// from the replies of the turns before it: system + (user₁ + reply₁) + … + userₖ, as token ids — the prompt of turn
/// k+1 extends the prompt of turn k and its reply exactly.
/// </summary>
public sealed record Conversation(IReadOnlyList<int> SystemPrompt, IReadOnlyList<IReadOnlyList<int>> UserMessages,
    IReadOnlyList<double> ThinkSeconds, int MaxTokens)
{
    public int Turns => UserMessages.Count;

    /// <summary>The prompt of turn <paramref name="turn"/> (from 0) after the replies of turns 0 … turn−1.</summary>
    public BenchPrompt Prompt(int turn, IReadOnlyList<IReadOnlyList<int>> replies)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(turn);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(turn, Turns);
        if (replies.Count < turn) throw new ArgumentException($"turn {turn} needs the replies of the {turn} turns before it, got {replies.Count}", nameof(replies));
        var ids = new List<int>(SystemPrompt);
        for (int earlier = 0; earlier < turn; earlier++)
        {
            ids.AddRange(UserMessages[earlier]);
            ids.AddRange(replies[earlier]);
        }
        ids.AddRange(UserMessages[turn]);
        return new BenchPrompt { TokenIds = ids, MaxTokens = MaxTokens };
    }
}
