namespace PdServe.Engine.Generation;

/// <summary>Capacity limits of one <see cref="InferenceEngine"/>.</summary>
public sealed record EngineOptions
{
    /// <summary>Sequences decoded together in one step (each sample of an n&gt;1 request counts).</summary>
    public int MaxBatchSize { get; init; } = 16;

    /// <summary>Longest sequence (prompt + generated tokens); capped by the model's max_position_embeddings.</summary>
    public int MaxContextTokens { get; init; } = 2048;

    /// <summary>
    /// Prompt tokens prefilled between two decode steps. Bounds how long running sequences wait while new ones
    /// join; at least one waiting prompt is always admitted when a slot is free.
    /// </summary>
    public int PrefillTokensPerStep { get; init; } = 2048;
}
