using PdServe.Pruning.Calibration;

namespace PdServe.Pruning.Search;

/// <summary>
/// The baseline: ShortGPT (Men et al., 2024) ranks blocks once by Block Influence, 1 − cosine similarity of a block's
/// input and output over all calibration positions, and removes the K least influential from the whole model.
/// </summary>
public static class ShortGptBaseline
{
    /// <summary>Blocks from least to most influential; ties go to the lower index.</summary>
    public static IReadOnlyList<int> Ranking(IReadOnlyList<BlockSimilarity> similarities) =>
        similarities.OrderBy(s => s.BlockInfluence).ThenBy(s => s.Block).Select(s => s.Block).ToArray();

    public static IReadOnlySet<int> Remove(IReadOnlyList<BlockSimilarity> similarities, int count) =>
        Ranking(similarities).Take(count).ToHashSet();
}
