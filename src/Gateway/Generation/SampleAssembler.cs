using PdServe.Contracts;
using PdServe.Engine.Tokenization;

namespace PdServe.Gateway.Generation;

/// <summary>
/// Turns one sample's token events into <see cref="ChoiceDelta"/>s: UTF-8-safe detokenization, stop strings, and the
/// tokens' logprobs, attached to the delta that releases their text. With echo or prompt logprobs, the choice starts
/// with one delta made from the prompt.
/// </summary>
public sealed class SampleAssembler(int choiceIndex, TextTokenizer tokenizer, GenerationParameters parameters)
{
    private readonly StreamingDetokenizer detokenizer = tokenizer.CreateStreamingDetokenizer();
    private readonly StopStringMatcher stop = new(parameters.Stop);
    private List<TokenLogprobInfo> pending = [];

    /// <summary>Tokens consumed: everything received up to and including the one that completed a stop string.</summary>
    public int TokenCount { get; private set; }
    public bool Done { get; private set; }

    /// <summary>Whether this choice starts with a delta made from its prompt.</summary>
    public bool StartsWithPrompt => parameters.Echo || parameters.PromptLogprobs is not null;

    /// <summary>
    /// The choice's first delta: the echoed prompt (its text, and its tokens with logprobs when asked) and the prompt
    /// logprobs when asked. <paramref name="scores"/> (one per prompt token after the first) are required when the
    /// request asked the nodes to score the prompt.
    /// </summary>
    public ChoiceDelta PromptDelta(IReadOnlyList<int> prompt, IReadOnlyList<PromptTokenLogprob>? scores)
    {
        IReadOnlyList<PromptTokenInfo>? infos = scores is null ? null : PromptInfos(prompt, scores);
        string text = parameters.Echo ? tokenizer.Decode(prompt) : "";
        IReadOnlyList<TokenLogprobInfo> tokens = parameters.Echo && parameters.Logprobs && infos is not null
            ? infos.Select(info => new TokenLogprobInfo(info.Text, info.Logprob, info.Logprob is null
                ? null
                : info.Top.Take(parameters.TopLogprobs).Select(a => new TopLogprobInfo(a.Text, a.Logprob)).ToList())).ToList()
            : [];
        IReadOnlyList<PromptTokenInfo>? reported = parameters.PromptLogprobs is { } top && infos is not null
            ? infos.Select(info => info with { Top = info.Top.Take(top).ToList() }).ToList()
            : null;
        return new ChoiceDelta(choiceIndex, text, tokens, null) { FromPrompt = true, Prompt = reported };
    }

    /// <summary>The delta this token releases, or null when its text is still held back (or the sample is done).</summary>
    public ChoiceDelta? OnToken(TokenEvent token)
    {
        if (Done || parameters.PromptOnly) return null;
        TokenCount++;
        if (parameters.Logprobs)
            pending.Add(new TokenLogprobInfo(TokenText(token.TokenId), token.Logprob,
                token.TopLogprobs.Select(t => new TopLogprobInfo(TokenText(t.TokenId), t.Logprob)).ToList()));
        string released = stop.Push(detokenizer.Push(token.TokenId));
        if (stop.Stopped) return Finish(released, "stop");
        return released.Length > 0 ? Delta(released, null) : null;
    }

    /// <summary>The sample's last delta, with what was held back and its finish reason.</summary>
    public ChoiceDelta? OnFinished(string finishReason)
    {
        if (Done) return null;
        // Scoring only: the token generated to carry the prompt through the nodes is not part of the answer.
        if (parameters.PromptOnly) return Finish("", "length");
        string released = stop.Push(detokenizer.Flush());
        if (stop.Stopped) return Finish(released, "stop");
        return Finish(released + stop.Flush(), finishReason);
    }

    private List<PromptTokenInfo> PromptInfos(IReadOnlyList<int> prompt, IReadOnlyList<PromptTokenLogprob> scores)
    {
        var infos = new List<PromptTokenInfo>(prompt.Count) { new(prompt[0], TokenText(prompt[0]), null, null, []) };
        foreach (PromptTokenLogprob score in scores)
        {
            infos.Add(new PromptTokenInfo(score.TokenId, TokenText(score.TokenId), score.Logprob, score.Rank,
                score.TopLogprobs.Select((t, i) => new PromptAlternative(t.TokenId, TokenText(t.TokenId), t.Logprob, i + 1)).ToList()));
        }
        return infos;
    }

    private ChoiceDelta Finish(string text, string reason)
    {
        Done = true;
        return Delta(text, reason);
    }

    private ChoiceDelta Delta(string text, string? finishReason)
    {
        var tokens = pending;
        pending = [];
        return new ChoiceDelta(choiceIndex, text, tokens, finishReason);
    }

    private string TokenText(int tokenId) => tokenizer.Decode([tokenId]);
}
