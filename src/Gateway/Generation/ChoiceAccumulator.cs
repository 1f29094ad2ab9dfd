using System.Text;

namespace PdServe.Gateway.Generation;

/// <summary>Collects the deltas of a non-streaming request into one text, token list and finish reason per choice.</summary>
public sealed class ChoiceAccumulator
{
    private readonly StringBuilder[] texts;
    private readonly List<TokenLogprobInfo>[] tokens;
    private readonly string?[] finishReasons;
    private readonly IReadOnlyList<PromptTokenInfo>?[] prompts;

    public ChoiceAccumulator(int choiceCount)
    {
        texts = Enumerable.Range(0, choiceCount).Select(_ => new StringBuilder()).ToArray();
        tokens = Enumerable.Range(0, choiceCount).Select(_ => new List<TokenLogprobInfo>()).ToArray();
        finishReasons = new string?[choiceCount];
        prompts = new IReadOnlyList<PromptTokenInfo>?[choiceCount];
    }

    public ValueTask AddAsync(ChoiceDelta delta)
    {
        texts[delta.Index].Append(delta.Text);
        tokens[delta.Index].AddRange(delta.Tokens);
        if (delta.FinishReason is not null) finishReasons[delta.Index] = delta.FinishReason;
        if (delta.Prompt is not null) prompts[delta.Index] = delta.Prompt;
        return ValueTask.CompletedTask;
    }

    public int Count => texts.Length;
    public string Text(int index) => texts[index].ToString();
    public IReadOnlyList<TokenLogprobInfo> Tokens(int index) => tokens[index];
    public string? FinishReason(int index) => finishReasons[index];
    public IReadOnlyList<PromptTokenInfo>? Prompt(int index) => prompts[index];
}
