using PdServe.Engine.Sampling;
using PdServe.Contracts;

namespace PdServe.NodeHosting;

/// <summary>The contract's sampling options as the engine's <see cref="SamplingParams"/>.</summary>
public static class SamplingOptionsMapping
{
    /// <summary>
    /// Maps the wire fields (top_p 0 means 1; a missing message means greedy, 16 tokens). <paramref name="seed"/>
    /// overrides the message's seed (the decode node fixes one for sampled requests so that both nodes share it).
    /// Throws <see cref="ArgumentException"/> for values the engine refuses.
    /// </summary>
    public static SamplingParams ToEngine(SamplingOptions? options, int vocabSize, ulong? seed = null)
    {
        options ??= new SamplingOptions { MaxTokens = 16 };
        var sampling = new SamplingParams
        {
            Temperature = options.Temperature,
            TopP = options.TopP == 0f ? 1f : options.TopP,
            TopK = options.TopK,
            Seed = seed ?? (options.HasSeed ? options.Seed : null),
            MaxTokens = options.MaxTokens,
            StopTokenIds = options.StopTokenIds.ToArray(),
            IgnoreEos = options.IgnoreEos,
            TopLogprobs = options.TopLogprobs,
        };
        sampling.Validate(vocabSize);
        return sampling;
    }
}
