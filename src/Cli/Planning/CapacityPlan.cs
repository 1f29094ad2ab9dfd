namespace PdServe.Cli.Planning;

/// <summary>
/// <c>pdserve plan-capacity</c>'s answer: the figures it used (and from which files), each pool's sizing, and what the
/// reader should know about how far the figures carry (the DistServe/Splitwise question for this deployment).
/// </summary>
public sealed record CapacityPlan
{
    public required CapacityWorkload Workload { get; init; }
    public required double TtftLimitMs { get; init; }
    public required double TpotLimitMs { get; init; }
    public required PrefillFigures Prefill { get; init; }
    public required DecodeFigures Decode { get; init; }
    public required PrefillSizing PrefillSizing { get; init; }
    public required DecodeSizing DecodeSizing { get; init; }
    public required IReadOnlyList<string> Notes { get; init; }

    public bool Feasible => PrefillSizing.Recommended is not null;

    public static CapacityPlan Make(CapacityWorkload workload, double ttftLimitMs, double tpotLimitMs, PrefillFigures prefill, DecodeFigures decode)
    {
        var notes = new List<string>();
        if (Apart(prefill.BenchInputTokens, workload.InputTokens))
            notes.Add(FormattableString.Invariant(
                $"the prefill run's prompts had {prefill.BenchInputTokens} tokens, the workload's {workload.InputTokens}: prefill tokens per second were taken as independent of the length (attention grows with it)"));
        if (Apart(decode.BenchInputTokens + decode.BenchOutputTokens, workload.InputTokens + workload.OutputTokens))
            notes.Add(FormattableString.Invariant(
                $"the decode run's sequences reached {decode.BenchInputTokens + decode.BenchOutputTokens} tokens, the workload's {workload.InputTokens + workload.OutputTokens}: a longer context makes each decode step slower"));
        if (prefill.ThroughputMaybeUnsaturated && prefill.ThroughputBound >= prefill.LatencyBound)
            notes.Add("no rate of the prefill run saturated it: μ is a lower bound, and the plan may ask for more prefill nodes than needed");
        if (decode.MaybeUnsaturated)
            notes.Add($"the decode figure comes from the run's highest rate ({decode.Rate}), still within the TPOT limit: a node may sustain more, so the plan may ask for more decode nodes than needed");
        notes.Add("the TTFT check is on the mean (M/D/1 has a closed form for it); tail latencies are higher");
        return new CapacityPlan
        {
            Workload = workload, TtftLimitMs = ttftLimitMs, TpotLimitMs = tpotLimitMs, Prefill = prefill, Decode = decode,
            PrefillSizing = PrefillSizing.Plan(workload, prefill, ttftLimitMs), DecodeSizing = DecodeSizing.Plan(workload, decode), Notes = notes,
        };
    }

    /// <summary>Lengths more than a factor 1.5 apart.</summary>
    private static bool Apart(int measured, int planned) => Math.Max(measured, planned) > 1.5 * Math.Min(measured, planned);
}
