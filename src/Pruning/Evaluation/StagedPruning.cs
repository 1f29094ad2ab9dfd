using PdServe.Engine.Planning;

namespace PdServe.Pruning.Evaluation;

/// <summary>
/// What each stage runs: the blocks prefill skips, the blocks decode skips (a superset) and the KV policy decode
/// reads the prompt's KV through. The part of a <see cref="PrunePlan"/> that changes the numbers.
/// </summary>
public sealed record StagedPruning(IReadOnlySet<int> PrefillSkip, IReadOnlySet<int> DecodeSkip, KvPolicy Kv)
{
    /// <summary>Healed stage weights; null runs both stages on the unpruned model's weights.</summary>
    public StageModels? Models { get; init; }

    public static StagedPruning Unpruned { get; } = new(new HashSet<int>(), new HashSet<int>(), KvPolicy.KeepAll);

    /// <summary>Both stages skip the same blocks, every KV position kept: one pruned model (ShortGPT, --skip-blocks).</summary>
    public static StagedPruning Uniform(IEnumerable<int> skip)
    {
        var set = skip.ToHashSet();
        return new StagedPruning(set, set, KvPolicy.KeepAll);
    }

    public static StagedPruning FromPlan(PrunePlan plan) => new(plan.PrefillSkipSet, plan.DecodeSkipSet, plan.KvPolicy);

    public StagedPruning WithoutKvPolicy() => this with { Kv = KvPolicy.KeepAll };

    /// <summary>
    /// <paramref name="policy"/> applied to this pruning: its selected layers that decode still runs (a skipped block has
    /// no KV to prune), so another method can be scored under a plan's token-aware policy.
    /// </summary>
    public StagedPruning WithKvPolicy(KvPolicy policy) =>
        this with { Kv = policy with { SelectedLayers = policy.SelectedLayers.Where(l => !DecodeSkip.Contains(l)).ToArray() } };

    public bool IsUnpruned => PrefillSkip.Count == 0 && DecodeSkip.Count == 0 && Kv.SelectedLayers.Count == 0 && Models is null;

    public override string ToString()
    {
        string kv = Kv.SelectedLayers.Count == 0 ? "" : $" kv[{string.Join(',', Kv.SelectedLayers)}] first {Kv.First} last {Kv.Last}";
        return $"prefill skips [{string.Join(',', PrefillSkip.Order())}] decode skips [{string.Join(',', DecodeSkip.Order())}]{kv}" +
               (Models is null ? "" : " healed");
    }
}
