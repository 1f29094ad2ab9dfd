namespace PdServe.Engine.Model;

/// <summary>The decoder blocks one stage runs, in order, out of the model's blocks.</summary>
public sealed class LayerPlan
{
    public LayerPlan(int totalBlocks, IReadOnlySet<int> skippedBlocks)
    {
        foreach (int block in skippedBlocks)
        {
            if (block < 0 || block >= totalBlocks)
                throw new ArgumentException($"skipped block {block} is out of range: the model has blocks 0..{totalBlocks - 1}");
        }
        if (skippedBlocks.Count >= totalBlocks)
            throw new ArgumentException($"cannot skip all {totalBlocks} blocks");
        TotalBlocks = totalBlocks;
        SkippedBlocks = skippedBlocks.OrderBy(b => b).ToArray();
        RunBlocks = Enumerable.Range(0, totalBlocks).Where(b => !skippedBlocks.Contains(b)).ToArray();
    }

    public int TotalBlocks { get; }
    public IReadOnlyList<int> SkippedBlocks { get; }
    public IReadOnlyList<int> RunBlocks { get; }
}
