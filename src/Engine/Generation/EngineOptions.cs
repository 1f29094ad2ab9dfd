using PdServe.Engine.Planning;

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

    /// <summary>
    /// The prompt positions each block keeps after a local prefill (the token-aware KV policy). Applying it here
    /// makes a locally prefilled request decode over exactly the cache a prefill node would have sent, so answers do
    /// not depend on where the prompt was processed. Null keeps every position.
    /// </summary>
    public KvPolicy? PromptKvPolicy { get; init; }

    /// <summary>
    /// Torch intra-op threads on the engine thread (torch's thread count is per OS thread). Null leaves torch's default.
    /// </summary>
    public int? TorchThreads { get; init; }

    /// <summary>What runs decode steps; prefill always runs on torch.</summary>
    public DecodeKernel DecodeKernel { get; init; } = DecodeKernel.Torch;

    /// <summary>The fast kernel's weight format: null keeps the model's decode dtype (F32 or Bf16); Int8 quantizes it at load.</summary>
    public FastPath.WeightFormat? FastWeights { get; init; }

    /// <summary>Called on the engine thread after every prefill and decode step (metrics); must return quickly.</summary>
    public Action<EngineStep>? StepCompleted { get; init; }
}
