using PdServe.Engine.Cache;
using PdServe.Engine.Model;
using PdServe.NodeHosting;
using PdServe.NodeHosting.Mapping;

namespace PdServe.Prefill;

/// <summary>The prefill node's state: beyond every node's, its workers and the KV it holds for readers.</summary>
public sealed class PrefillNode(PrefillNodeOptions options, IPrefillStreamFilter filter) : ServingNode(options, Stage.Prefill)
{
    private PrefillWorkers? workers;

    public PrefillNodeOptions Options { get; } = options;
    public KvHoldAccount Holds { get; } = new();

    internal PrefillWorkers Workers => workers ?? throw NotLoaded();

    public override LoadReport Load => workers is { } w
        ? new LoadReport(w.Running, w.Waiting, Math.Min(1.0, (double)Holds.HeldBytes / Options.KvHoldBudgetBytes))
        : new LoadReport(0, 0, 0);

    /// <summary>The model's vocabulary and context, and the configured sample limit.</summary>
    public override RequestLimits Limits
    {
        get
        {
            var config = Model.Loaded.Model.Config;
            return new RequestLimits(config.VocabSize, config.MaxPositionEmbeddings, Options.MaxSamples);
        }
    }

    protected override ModelLoadOptions LoadOptions => new() { PrefillDtype = Options.PrefillDtype, TwoThreadDecode = false };

    /// <summary>The prompt prefixes this node keeps (null with <see cref="PrefillNodeOptions.PrefixCacheBytes"/> 0, or before loading).</summary>
    public PrefixBlockCache? PrefixCache { get; private set; }

    protected override void Start(StageModel loaded)
    {
        if (Options.PrefixCacheBytes > 0)
        {
            // The KV of the same tokens differs between weights, plans (skipped blocks, healed weights) and prefill dtypes.
            string fingerprint = $"{loaded.ModelFingerprint}/{loaded.PlanFingerprint}/{loaded.Loaded.Model.PrefillDtype}";
            PrefixBlockCache cache = loaded.Loaded.Model.CreatePrefixCache(fingerprint, Options.PrefixCacheBytes, Options.PrefixBlockTokens);
            Metrics.Registry.AddBeforeCollectCallback(() => Metrics.PublishPrefixCache(cache.Statistics));
            PrefixCache = cache;
        }
        workers = new PrefillWorkers(loaded, Options.Threads, Options.QueueCapacity, Metrics, filter, PrefixCache);
    }

    protected override void Stop()
    {
        // Workers first: a running prefill may still read cached blocks.
        workers?.Dispose();
        PrefixCache?.Dispose();
    }
}
