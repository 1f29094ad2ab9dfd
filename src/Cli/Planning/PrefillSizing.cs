namespace PdServe.Cli.Planning;

/// <summary>
/// How many prefill nodes keep the mean TTFT within the limit. Each node is a single server with deterministic service
/// time S = N / μ (DistServe's model of a prefill instance), requests split evenly: with k nodes each sees λ = R / k,
/// utilization ρ = λ·S, and an M/D/1 queue's mean wait W = ρ·S / (2(1 − ρ)); TTFT ≈ W + S + O. The smallest k with
/// ρ &lt; 1 and TTFT within the limit is recommended; when S + O alone exceeds the limit, no k is.
/// </summary>
public sealed record PrefillSizing
{
    private const int MostNodes = 1024;

    /// <summary>S: one workload prompt's prefill on one node, ms.</summary>
    public required double ServiceMs { get; init; }
    public required double OverheadMs { get; init; }
    /// <summary>N·R / μ: how many nodes' worth of prefill the workload is.</summary>
    public required double NodesOfWork { get; init; }
    public required IReadOnlyList<PrefillOption> Considered { get; init; }
    public int? Recommended { get; init; }
    /// <summary>Why no pool size meets the limit, when none does.</summary>
    public string? Infeasible { get; init; }

    public static PrefillSizing Plan(CapacityWorkload workload, PrefillFigures figures, double ttftLimitMs)
    {
        double service = workload.InputTokens / figures.TokensPerSecond;
        double overhead = figures.OverheadMs;
        double work = workload.PromptTokensPerSecond / figures.TokensPerSecond;
        var sizing = new PrefillSizing { ServiceMs = service * 1000, OverheadMs = overhead, NodesOfWork = work, Considered = [] };
        if (service * 1000 + overhead > ttftLimitMs)
            return sizing with
            {
                Infeasible = FormattableString.Invariant(
                    $"one {workload.InputTokens}-token prompt alone takes S + O = {service * 1000:0.0} + {overhead:0.0} ms, over the {ttftLimitMs:0} ms TTFT limit, however many nodes there are"),
            };
        var considered = new List<PrefillOption>();
        // The first size that keeps ρ below 1: more nodes than nodes of work.
        for (int nodes = Math.Max(1, (int)Math.Floor(work) + 1); nodes <= MostNodes; nodes++)
        {
            double rho = work / nodes;
            if (rho >= 1) continue;
            double wait = rho * service / (2 * (1 - rho));
            double ttft = (wait + service) * 1000 + overhead;
            bool meets = ttft <= ttftLimitMs;
            considered.Add(new PrefillOption(nodes, rho, wait * 1000, ttft, meets));
            if (meets) return sizing with { Considered = considered, Recommended = nodes };
        }
        return sizing with { Considered = considered, Infeasible = $"no pool of up to {MostNodes} nodes meets the TTFT limit" };
    }
}
