using static TorchSharp.torch;

namespace PdServe.Engine.Model;

/// <summary>
/// What <see cref="CausalLm.ForwardPass"/> runs: which positions, which blocks, which earlier KV each block attends
/// over, and what it reports per block. Evaluation and the prune-plan search use it to score a model as a stage
/// would run it without loading a pruned copy per candidate.
/// </summary>
public sealed record SequencePass
{
    /// <summary>The true position of the first input token.</summary>
    public int StartPosition { get; init; }

    /// <summary>Blocks of the model passed over, as a stage that skips them would.</summary>
    public IReadOnlySet<int> SkippedBlocks { get; init; } = new HashSet<int>();

    /// <summary>
    /// Per run block, the keys and values of earlier positions that every new position attends over (all of them,
    /// or a subset as a decode node holds a pruned prompt KV). When set, every run block needs an entry.
    /// </summary>
    public IReadOnlyDictionary<int, BlockKv>? PrefixKv { get; init; }

    /// <summary>Dtype of the blocks' matrix products; norms, RoPE and attention stay fp32.</summary>
    public ScalarType ComputeDtype { get; init; } = ScalarType.Float32;

    /// <summary>Called after each run block; the tensors it receives are disposed when it returns.</summary>
    public Action<BlockActivity>? OnBlock { get; init; }

    /// <summary>Whether <see cref="BlockActivity.AttentionWeights"/> is filled (costs one [B, heads, T, keys] tensor per block).</summary>
    public bool RecordAttention { get; init; }

    /// <summary>
    /// Build the autograd graph (parameters that require gradients get them from a loss on the output): healing trains
    /// stage models through exactly this staged computation. Off, the pass runs without gradients.
    /// </summary>
    public bool TrackGradients { get; init; }
}
