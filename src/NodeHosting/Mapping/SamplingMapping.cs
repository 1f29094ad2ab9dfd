using PdServe.Contracts;
using PdServe.Engine.Sampling;

namespace PdServe.NodeHosting.Mapping;

/// <summary>
/// The contract's <see cref="SamplingOptions"/> as the engine's <see cref="SamplingParams"/> and back: the only two
/// shapes sampling parameters take inside the nodes.
/// </summary>
public static class SamplingMapping
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
            PromptLogprobs = options.HasPromptLogprobs ? options.PromptLogprobs : null,
        };
        sampling.Validate(vocabSize);
        return sampling;
    }

    /// <summary>
    /// A decode node's validated request as it asks its prefill node for the first tokens: the same parameters, the
    /// fixed seed included, so that <see cref="ToEngine"/> on the other side gives back an equal <see cref="SamplingParams"/>.
    /// </summary>
    public static SamplingOptions ToWire(SamplingParams sampling)
    {
        var options = new SamplingOptions
        {
            Temperature = sampling.Temperature,
            TopP = sampling.TopP,
            TopK = sampling.TopK,
            MaxTokens = sampling.MaxTokens,
            IgnoreEos = sampling.IgnoreEos,
            TopLogprobs = sampling.TopLogprobs,
        };
        if (sampling.Seed is { } seed) options.Seed = seed;
        if (sampling.PromptLogprobs is { } prompt) options.PromptLogprobs = prompt;
        options.StopTokenIds.AddRange(sampling.StopTokenIds);
        return options;
    }

    /// <summary>
    /// The seed a decode node samples a request with: the client's, or for a sampled request without one a fresh one,
    /// because its prefill node must draw the first tokens from the same stream the decode node continues.
    /// </summary>
    public static ulong? SharedSeed(SamplingOptions? options) =>
        options is null ? null : options.HasSeed ? options.Seed : options.Temperature > 0 ? (ulong)Random.Shared.NextInt64() : null;
}
