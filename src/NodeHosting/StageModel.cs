using PdServe.Engine;
using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.Engine.Planning;

namespace PdServe.NodeHosting;

/// <summary>Which half of the model a node runs: the plan's prefill or decode skip set.</summary>
public enum Stage
{
    Prefill,
    Decode,
}

/// <summary>
/// A node's model: the weights for its stage, the plan they were loaded under, and the two fingerprints a peer
/// must share (weights and plan) before KV may move between them.
/// </summary>
public sealed class StageModel : IDisposable
{
    private StageModel(LoadedModel loaded, PrunePlan plan, string modelFingerprint)
    {
        Loaded = loaded;
        Plan = plan;
        ModelFingerprint = modelFingerprint;
        PlanFingerprint = plan.Fingerprint();
    }

    public LoadedModel Loaded { get; }
    public PrunePlan Plan { get; }
    public string ModelFingerprint { get; }
    public string PlanFingerprint { get; }
    public KvPolicy KvPolicy => Plan.KvPolicy;

    /// <summary>
    /// Reads the plan (or makes the unpruned one), checks it was made for these weights, and loads the stage's
    /// blocks. Throws <see cref="PrunePlanException"/> or <see cref="ModelLoadException"/> with a message saying why.
    /// </summary>
    public static StageModel Load(string modelDirectory, string? planPath, Stage stage, ModelLoadOptions options)
    {
        ModelDirectory directory = ModelDirectory.Open(modelDirectory);
        string fingerprint = Engine.Loading.ModelFingerprint.Compute(directory.Path);
        PrunePlan plan = planPath is null ? PrunePlan.Unpruned(fingerprint, directory.Config.NumLayers) : PrunePlan.Load(planPath);
        plan.EnsureMatches(fingerprint, directory.Config.NumLayers);
        IReadOnlySet<int> skip = stage == Stage.Prefill ? plan.PrefillSkipSet : plan.DecodeSkipSet;
        string? healed = plan.HealedFile(prefill: stage == Stage.Prefill);
        return new StageModel(LoadedModel.Load(directory.Path, options with { SkippedBlocks = skip }, healed), plan, fingerprint);
    }

    public void Dispose() => Loaded.Dispose();
}
