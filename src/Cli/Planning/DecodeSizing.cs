namespace PdServe.Cli.Planning;

/// <summary>
/// How many decode nodes produce the workload's output within the TPOT limit: the workload needs R·M output tokens per
/// second, a node sustains T (<see cref="DecodeFigures.OutputTokensPerSecond"/>) at the limit, so ⌈R·M / T⌉ nodes; by
/// Little's law that is R × M × TPOT sequences decoding at once across the pool.
/// </summary>
public sealed record DecodeSizing(double RequiredTokensPerSecond, double NodesOfWork, int Recommended, double SequencesInFlight)
{
    public static DecodeSizing Plan(CapacityWorkload workload, DecodeFigures figures)
    {
        double work = workload.OutputTokensPerSecond / figures.OutputTokensPerSecond;
        // A hair of tolerance so a quotient that is whole up to rounding does not take one node more.
        int nodes = Math.Max(1, (int)Math.Ceiling(work - 1e-9));
        return new DecodeSizing(workload.OutputTokensPerSecond, work, nodes, workload.Rate * workload.OutputTokens * figures.TpotMs / 1000);
    }
}
