using static TorchSharp.torch;

namespace PdServe.Engine.Model;

/// <summary>How one stage loads the model: which blocks it skips and the dtypes its matrix products run in.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Decoder blocks this stage skips; they are never read from disk.</summary>
    public IReadOnlySet<int> SkippedBlocks { get; init; } = new HashSet<int>();

    /// <summary>
    /// Dtype of the weights used for decode steps. fp32 by default: batch-1 decode is a chain of GEMVs, and
    /// on this CPU bf16 GEMV is slower than fp32.
    /// </summary>
    public ScalarType DecodeDtype { get; init; } = ScalarType.Float32;

    /// <summary>
    /// Dtype of the weights used for prompt processing. bf16 by default: prompt-sized GEMMs run several times
    /// faster in bf16 here, while norms, RoPE, attention and the KV cache stay fp32 (see bench/RESULTS.md).
    /// </summary>
    public ScalarType PrefillDtype { get; init; } = ScalarType.BFloat16;

    /// <summary>Receives the fraction of weights loaded, from 0 to 1.</summary>
    public IProgress<double>? Progress { get; init; }
}
