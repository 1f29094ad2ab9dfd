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
    public static SampledToken ToEngine(FirstToken token) => new(token.TokenId, token.Logprob, ToEngine(token.TopLogprobs));

    /// <summary>Prompt scores as the contract carries them (prefill trailer, decode event).</summary>
    public static IEnumerable<PromptTokenLogprob> ToWire(IEnumerable<PromptTokenScore> scores) => scores.Select(score =>
    {
        var wire = new PromptTokenLogprob { TokenId = score.TokenId, Logprob = score.Logprob, Rank = score.Rank };
        wire.TopLogprobs.AddRange(score.TopLogprobs.Select(ToWire));
        return wire;
    });

    /// <summary>
    /// A received prompt's scores for the engine. Throws <see cref="ArgumentException"/> unless there is one per prompt
    /// token after the first, each scoring that token, with alternatives inside the vocabulary.
    /// </summary>
    public static IReadOnlyList<PromptTokenScore> ToEngine(IReadOnlyList<PromptTokenLogprob> scores, IReadOnlyList<int> prompt, int vocabSize)
    {
        if (scores.Count != prompt.Count - 1)
            throw new ArgumentException($"{scores.Count} prompt scores for a prompt of {prompt.Count} tokens (one per token after the first)");
        var result = new PromptTokenScore[scores.Count];
        for (int i = 0; i < scores.Count; i++)
        {
            PromptTokenLogprob score = scores[i];
            if (score.TokenId != prompt[i + 1])
                throw new ArgumentException($"prompt score {i} is for token {score.TokenId}, the prompt holds {prompt[i + 1]}");
            if (score.TopLogprobs.Any(t => t.TokenId < 0 || t.TokenId >= vocabSize))
                throw new ArgumentException($"prompt score {i} names an alternative outside the vocabulary [0, {vocabSize})");
            result[i] = new PromptTokenScore(score.TokenId, score.Logprob, score.Rank, ToEngine(score.TopLogprobs));
        }
        return result;
    }

    private static Engine.Sampling.TokenLogprob[] ToEngine(IEnumerable<WireTokenLogprob> alternatives) =>
        alternatives.Select(t => new Engine.Sampling.TokenLogprob(t.TokenId, t.Logprob)).ToArray();

    private static WireTokenLogprob ToWire(Engine.Sampling.TokenLogprob alternative) =>
        new() { TokenId = alternative.TokenId, Logprob = alternative.Logprob };
}
