namespace PdServe.Pruning.Search;

/// <summary>
/// Iterative removal: starting from a removal set, repeatedly add the candidate block whose removal raises the
/// objective least, re-measuring every remaining candidate on the currently pruned model after each removal (so the
/// order matters, unlike a one-shot ranking). Ties go to the lower block index.
/// </summary>
public static class GreedyRemoval
{
    /// <summary>One removal: the block chosen, the objective after it, and every candidate's objective at that step.</summary>
    public sealed record Step(int Block, double Objective, IReadOnlyDictionary<int, double> Candidates);

    public static (IReadOnlySet<int> Removed, IReadOnlyList<Step> Steps) Run(IReadOnlySet<int> start, IReadOnlyList<int> candidates,
        int count, Func<IReadOnlySet<int>, double> objective, IProgress<double>? progress = null, CancellationToken cancellation = default)
    {
        var removed = new SortedSet<int>(start);
        var steps = new List<Step>();
        var pool = candidates.Where(b => !removed.Contains(b)).Order().ToList();
        if (count > pool.Count) throw new PruningInputException($"cannot remove {count} more blocks: only {pool.Count} candidates remain");
        int total = Enumerable.Range(0, count).Sum(i => pool.Count - i), done = 0;
        for (int step = 0; step < count; step++)
        {
            var scores = new SortedDictionary<int, double>();
            foreach (int block in pool)
            {
                cancellation.ThrowIfCancellationRequested();
                scores[block] = objective(new SortedSet<int>(removed) { block });
                progress?.Report(++done / (double)total);
            }
            // Lowest objective; SortedDictionary order makes the lower index win ties.
            int best = scores.MinBy(pair => pair.Value).Key;
            removed.Add(best);
            pool.Remove(best);
            steps.Add(new Step(best, scores[best], scores));
        }
        return (removed, steps);
    }
}
