using static TorchSharp.torch;

namespace PdServe.Engine.Model;

/// <summary>How one stage loads the model: which blocks it skips and the dtypes its matrix products run in.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Decoder blocks this stage skips; they are never read from disk.</summary>
    public IReadOnlySet<int> SkippedBlocks { get; init; } = new HashSet<int>();

    /// <summary>
    /// Dtype of the weights used for decode steps; null picks the checkpoint's own precision: bf16 for a bf16
    /// checkpoint (lossless, and streaming half the bytes makes every batch size faster here — fp32 GEMMs with a
    /// few rows are pathologically slow on this CPU), fp32 otherwise. See bench/RESULTS.md.
    /// </summary>
    public ScalarType? DecodeDtype { get; init; }

    /// <summary>
    /// Dtype of the weights used for prompt processing. bf16 by default: prompt-sized GEMMs run several times
    /// faster in bf16 here, while norms, RoPE, attention and the KV cache stay fp32 (see bench/RESULTS.md).
    /// </summary>
    public ScalarType PrefillDtype { get; init; } = ScalarType.BFloat16;

    /// <summary>
    /// Split each decode-step matrix product across two threads (see <see cref="Runtime.PartnerThread"/>).
    /// Null: when torch may use two or more threads. Prefill and training are unaffected.
    /// </summary>
    public bool? TwoThreadDecode { get; init; }

    /// <summary>Receives the fraction of weights loaded, from 0 to 1.</summary>
    public IProgress<double>? Progress { get; init; }
}
