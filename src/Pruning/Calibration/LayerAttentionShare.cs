namespace PdServe.Pruning.Calibration;

/// <summary>
/// Where a layer's attention goes from continuation (decode) positions, as a fraction of all attention mass (each
/// query's weights sum to 1), averaged over queries, heads and samples: on the first F prompt positions, on the last
/// L, on the union of both (what a KV-pruned layer keeps), and on the whole prompt.
/// </summary>
public sealed record LayerAttentionShare(int Layer, double First, double Last, double Kept, double Prompt)
{
    /// <summary>Attention mass that still finds its key when the layer keeps only the first/last prompt positions: 1 − dropped mass.</summary>
    public double Coverage => 1 - (Prompt - Kept);
}
