namespace PdServe.Pruning.Search;

/// <summary>
/// Refines a removal set by simulated annealing over swap moves: one removed block (never one of the fixed blocks)
/// for one kept block of the pool, so the set's size and the fixed subset are preserved.
/// Metropolis acceptance: a move that changes the objective by Δ is taken when Δ ≤ 0, else with probability
/// exp(−Δ / T). Cooling is geometric, T_i = T₀·α^i, with T₀ = 0.1 × the starting objective (a move 10% worse than
/// the start is taken with probability 1/e at first) and α = 0.01^(1/iterations), so the last moves run at 1% of T₀
/// and the walk ends as a descent. With T₀ = 0 (a perfect start) only non-worsening moves are taken. The best set
/// seen is returned; the random stream is <see cref="Random"/> with the given seed, so a seed gives one result.
/// </summary>
public static class SimulatedAnnealing
{
    public const double InitialTemperatureFraction = 0.1;
    public const double FinalTemperatureRatio = 0.01;

    public sealed record Result(IReadOnlySet<int> Best, double BestObjective, double StartObjective, double InitialTemperature,
        double CoolingFactor, int Iterations, int Accepted, int Improvements);

    public static Result Refine(IReadOnlySet<int> start, IReadOnlySet<int> fixedBlocks, IReadOnlyList<int> pool, int iterations, int seed,
        Func<IReadOnlySet<int>, double> objective, IProgress<double>? progress = null, CancellationToken cancellation = default)
    {
        var current = new SortedSet<int>(start);
        double currentValue = objective(current), startValue = currentValue;
        var best = new SortedSet<int>(current);
        double bestValue = currentValue;
        double temperature0 = InitialTemperatureFraction * Math.Max(0, startValue);
        double alpha = iterations > 0 ? Math.Pow(FinalTemperatureRatio, 1.0 / iterations) : 1;
        var random = new Random(seed);
        int accepted = 0, improvements = 0;
        for (int i = 0; i < iterations; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            int[] movable = current.Where(b => !fixedBlocks.Contains(b)).ToArray();
            int[] kept = pool.Where(b => !current.Contains(b)).Order().ToArray();
            if (movable.Length == 0 || kept.Length == 0) break;
            int leave = movable[random.Next(movable.Length)], enter = kept[random.Next(kept.Length)];
            var candidate = new SortedSet<int>(current);
            candidate.Remove(leave);
            candidate.Add(enter);
            double value = objective(candidate), delta = value - currentValue;
            double temperature = temperature0 * Math.Pow(alpha, i);
            double draw = random.NextDouble();
            bool accept = delta <= 0 || (temperature > 0 && draw < Math.Exp(-delta / temperature));
            if (accept)
            {
                current = candidate;
                currentValue = value;
                accepted++;
                if (value < bestValue)
                {
                    best = new SortedSet<int>(candidate);
                    bestValue = value;
                    improvements++;
                }
            }
            progress?.Report((i + 1) / (double)iterations);
        }
        return new Result(best, bestValue, startValue, temperature0, alpha, iterations, accepted, improvements);
    }
}
