using static TorchSharp.torch;

namespace PdServe.Pruning.Calibration;

/// <summary>
/// What the unpruned model did on the calibration samples: per-block similarities, per-layer attention shares, and
/// its next-token log-probabilities [b, prompt + continuation, vocab] per batch — the reference every pruning
/// objective is measured against. Owns the reference tensors.
/// </summary>
public sealed class CalibrationResult(IReadOnlyList<BlockSimilarity> similarities, IReadOnlyList<LayerAttentionShare> attention,
    IReadOnlyList<Tensor> referenceLogProbabilities) : IDisposable
{
    public IReadOnlyList<BlockSimilarity> Similarities { get; } = similarities;
    public IReadOnlyList<LayerAttentionShare> Attention { get; } = attention;
    public IReadOnlyList<Tensor> ReferenceLogProbabilities { get; } = referenceLogProbabilities;

    public void Dispose()
    {
        foreach (Tensor t in ReferenceLogProbabilities) t.Dispose();
    }
}
