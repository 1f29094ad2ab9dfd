using PdServe.Contracts;
using PdServe.Engine.Generation;
using PdServe.Engine.Sampling;
using WireTokenLogprob = PdServe.Contracts.TokenLogprob;

namespace PdServe.NodeHosting.Mapping;

/// <summary>The engine's sampled tokens as the contract's events and first tokens, and a received first token back.</summary>
public static class TokenMapping
{
    /// <summary>A decode node's streamed token.</summary>
    public static TokenEvent ToEvent(GeneratedToken token)
    {
        var result = new TokenEvent { SampleIndex = token.SampleIndex, TokenId = token.Token.TokenId, Logprob = token.Token.Logprob };
        result.TopLogprobs.AddRange(token.Token.TopLogprobs.Select(ToWire));
        return result;
    }

    /// <summary>The end of one sample: "stop" (an end-of-sequence or stop token) or "length".</summary>
    public static SampleFinished ToFinished(int sampleIndex, FinishReason reason, int completionTokens) => new()
    {
        SampleIndex = sampleIndex,
        FinishReason = reason == FinishReason.Stop ? "stop" : "length",
        CompletionTokens = completionTokens,
    };

    /// <summary>A prefill node's first token of sample <paramref name="sampleIndex"/>, for the trailer.</summary>
    public static FirstToken ToFirstToken(int sampleIndex, SampledToken token)
    {
        var result = new FirstToken { SampleIndex = sampleIndex, TokenId = token.TokenId, Logprob = token.Logprob };
        result.TopLogprobs.AddRange(token.TopLogprobs.Select(ToWire));
        return result;
    }

    /// <summary>A received first token (already checked against the vocabulary) for the engine.</summary>
    public static SampledToken ToEngine(FirstToken token) => new(token.TokenId, token.Logprob,
        token.TopLogprobs.Select(t => new Engine.Sampling.TokenLogprob(t.TokenId, t.Logprob)).ToArray());

    private static WireTokenLogprob ToWire(Engine.Sampling.TokenLogprob alternative) =>
        new() { TokenId = alternative.TokenId, Logprob = alternative.Logprob };
}
