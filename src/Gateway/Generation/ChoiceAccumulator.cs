using System.Text;

namespace PdServe.Gateway.Generation;

/// <summary>Collects the deltas of a non-streaming request into one text, token list and finish reason per choice.</summary>
public sealed class ChoiceAccumulator
{
    private readonly StringBuilder[] _texts;
    private readonly List<TokenLogprobInfo>[] _tokens;
    private readonly string?[] _finishReasons;

    public ChoiceAccumulator(int choiceCount)
    {
        _texts = Enumerable.Range(0, choiceCount).Select(_ => new StringBuilder()).ToArray();
        _tokens = Enumerable.Range(0, choiceCount).Select(_ => new List<TokenLogprobInfo>()).ToArray();
        _finishReasons = new string?[choiceCount];
    }

    public ValueTask AddAsync(ChoiceDelta delta)
    {
        _texts[delta.Index].Append(delta.Text);
        _tokens[delta.Index].AddRange(delta.Tokens);
        if (delta.FinishReason is not null) _finishReasons[delta.Index] = delta.FinishReason;
        return ValueTask.CompletedTask;
    }

    public int Count => _texts.Length;
    public string Text(int index) => _texts[index].ToString();
    public IReadOnlyList<TokenLogprobInfo> Tokens(int index) => _tokens[index];
    public string? FinishReason(int index) => _finishReasons[index];
}
