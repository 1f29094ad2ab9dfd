namespace PdServe.Engine.Sampling;

/// <summary>How one request picks its tokens and when it stops.</summary>
public sealed record SamplingParams
{
    /// <summary>Below <see cref="GreedyTemperature"/> (0 included) the request is greedy (argmax).</summary>
    public float Temperature { get; init; } = 1.0f;
    /// <summary>
    /// Nucleus sampling: keep the smallest set of tokens whose probability reaches this mass; the most likely token
    /// always stays, however small the mass.
    /// </summary>
    public float TopP { get; init; } = 1.0f;
    /// <summary>Keep only the K most likely tokens (and those tied with the K-th); 0, or K at least the vocabulary, keeps all.</summary>
    public int TopK { get; init; }
    /// <summary>Makes sampling reproducible; sample i of an n&gt;1 request uses Seed + i (wrapping past ulong.MaxValue).</summary>
    public ulong? Seed { get; init; }
    public int MaxTokens { get; init; } = 16;
    /// <summary>Token ids that end generation besides the model's end-of-sequence ids.</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];
    /// <summary>Keep generating through the model's end-of-sequence ids.</summary>
    public bool IgnoreEos { get; init; }
    /// <summary>How many most likely alternatives to report with each token's logprob (0 = none; at most the vocabulary).</summary>
    public int TopLogprobs { get; init; }
    /// <summary>
    /// When set, the prompt's own tokens are scored too (their logprobs and ranks, with this many alternatives each),
    /// which makes the prefill compute the logits of every prompt position.
    /// </summary>
    public int? PromptLogprobs { get; init; }

    /// <summary>
    /// Temperatures below this pick the argmax, as vLLM does: the limit of sampling as the temperature goes to 0, without
    /// dividing by a number that small. Prefill and decode nodes both decide through <see cref="IsGreedy"/>.
    /// </summary>
    public const float GreedyTemperature = 1e-5f;

    /// <summary>The most alternatives a token's or a prompt token's logprob may come with (vLLM's default limit).</summary>
    public const int MaxLogprobs = 20;

    public bool IsGreedy => Temperature < GreedyTemperature;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate(int vocabSize)
    {
        if (!float.IsFinite(Temperature) || Temperature < 0) throw new ArgumentException($"temperature must be a finite number >= 0, got {Temperature}");
        if (float.IsNaN(TopP) || TopP <= 0 || TopP > 1) throw new ArgumentException($"top_p must be in (0, 1], got {TopP}");
        if (TopK < 0) throw new ArgumentException($"top_k must be >= 0, got {TopK}");
        if (MaxTokens < 1) throw new ArgumentException($"max_tokens must be >= 1, got {MaxTokens}");
        if (TopLogprobs < 0 || TopLogprobs > MaxLogprobs) throw new ArgumentException($"top_logprobs must be in [0, {MaxLogprobs}], got {TopLogprobs}");
        if (PromptLogprobs is < 0 or > MaxLogprobs) throw new ArgumentException($"prompt_logprobs must be in [0, {MaxLogprobs}], got {PromptLogprobs}");
        foreach (int id in StopTokenIds)
        {
            if (id < 0 || id >= vocabSize) throw new ArgumentException($"stop token id {id} is outside the vocabulary [0, {vocabSize})");
        }
    }
}
