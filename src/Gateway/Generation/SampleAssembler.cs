using PdServe.Contracts;
using PdServe.Engine.Tokenization;

namespace PdServe.Gateway.Generation;

/// <summary>
/// Turns one sample's token events into <see cref="ChoiceDelta"/>s: UTF-8-safe detokenization, stop strings, and the
/// tokens' logprobs, attached to the delta that releases their text.
/// </summary>
public sealed class SampleAssembler(int choiceIndex, TextTokenizer tokenizer, IReadOnlyList<string> stop, bool logprobs)
{
    private readonly StreamingDetokenizer detokenizer = tokenizer.CreateStreamingDetokenizer();
    private readonly StopStringMatcher stop = new(stop);
    private List<TokenLogprobInfo> pending = [];

    /// <summary>Tokens consumed: everything received up to and including the one that completed a stop string.</summary>
    public int TokenCount { get; private set; }
    public bool Done { get; private set; }

    /// <summary>The delta this token releases, or null when its text is still held back (or the sample is done).</summary>
    public ChoiceDelta? OnToken(TokenEvent token)
    {
        if (Done) return null;
        TokenCount++;
        if (logprobs)
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
        string released = stop.Push(detokenizer.Flush());
        if (stop.Stopped) return Finish(released, "stop");
        return Finish(released + stop.Flush(), finishReason);
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
