namespace PdServe.Pruning.Calibration;

/// <summary>
/// Mean cosine similarity between a block's input and output hidden states on calibration text, over prompt
/// positions (what prefill computes), continuation positions (what decode computes) and all positions. Near 1: the
/// block barely changes the residual stream, so it is cheap to remove.
/// </summary>
public sealed record BlockSimilarity(int Block, double Prompt, double Continuation, double All)
{
    /// <summary>ShortGPT's Block Influence: 1 − cosine similarity over all positions.</summary>
    public double BlockInfluence => 1 - All;
}
