using PdServe.Pruning.Calibration;
using PdServe.Pruning.KvSelection;

namespace PdServe.Pruning.Search;

/// <summary>What <c>pdserve prune</c> searches for.</summary>
public sealed record PruneOptions
{
    /// <summary>K_P: blocks the prefill stage skips; with <see cref="PrefillKlBudget"/>, the most it may skip.</summary>
    public required int PrefillSkip { get; init; }
    /// <summary>
    /// When set (<c>--prefill-skip auto</c>), the search chooses K_P: the largest count up to <see cref="PrefillSkip"/>
    /// whose greedy removal keeps the prefill objective (mean KL over prompt positions, nats) within this budget.
    /// Prefill is the more sensitive stage, so it gets only the blocks it can spare.
    /// </summary>
    public double? PrefillKlBudget { get; init; }
    /// <summary>K_D: blocks the decode stage skips (≥ K_P; the prefill set is part of it).</summary>
    public required int DecodeSkip { get; init; }
    public KvLayerRequest KvLayers { get; init; } = KvLayerRequest.Automatic;
    public CalibrationOptions Calibration { get; init; } = new();
    public int Seed { get; init; }
    /// <summary>Simulated-annealing moves per stage.</summary>
    public int Iterations { get; init; } = 40;
    /// <summary>d_T: blocks at least this similar form the pruning set, the others the distillation set.</summary>
    public double SimilarityThreshold { get; init; } = 0.95;
    /// <summary><c>--kv-layers auto</c>: layers need this coverage to be tried.</summary>
    public double KvCoverageThreshold { get; init; } = 0.9;
    /// <summary><c>--kv-layers auto</c>: the largest decode perplexity increase the KV policy may add (0.02 = 2%).</summary>
    public double KvPerplexityBudget { get; init; } = 0.02;

    /// <exception cref="PruningInputException">The counts do not fit the model.</exception>
    public void Validate(int numBlocks)
    {
        if (PrefillSkip < 0 || DecodeSkip < 0) throw new PruningInputException("--prefill-skip and --decode-skip must be >= 0");
        if (PrefillSkip > DecodeSkip)
            throw new PruningInputException($"--prefill-skip ({PrefillSkip}) must not exceed --decode-skip ({DecodeSkip}): prefill_skip must be a subset of decode_skip");
        if (DecodeSkip >= numBlocks) throw new PruningInputException($"--decode-skip {DecodeSkip} would remove all {numBlocks} blocks (at most {numBlocks - 1})");
        if (Iterations < 0) throw new PruningInputException("--iterations must be >= 0");
    }
}
