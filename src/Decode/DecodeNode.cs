using PdServe.Decode.Admission;
using PdServe.Decode.Conversations;
using PdServe.Decode.Transfer;
using PdServe.Engine.Generation;
using PdServe.Engine.Model;
using PdServe.KvTransfer.Connector;
using PdServe.NodeHosting;
using PdServe.NodeHosting.Mapping;
using static TorchSharp.torch;

namespace PdServe.Decode;

/// <summary>
/// The decode node's state: beyond every node's, its engine, the KV budget, the client that pulls KV from prefill
/// nodes, the parked conversations and the requests it is serving.
/// </summary>
public sealed class DecodeNode(DecodeNodeOptions options, IKvConnector connector) : ServingNode(options, Stage.Decode)
{
    private InferenceEngine? engine;
    private PrefillClient? prefillClient;
    private ConversationCache? conversations;
    private ConversationCacheMetrics? conversationMetrics;
    private int running;
    private int waiting;

    public DecodeNodeOptions Options { get; } = options;
    public KvBudget Budget { get; } = new(options.KvBudgetBytes);
    public TrustedPrefillNodes TrustedPrefillNodes { get; } = new(options.TrustedPrefillNodes);

    internal InferenceEngine Engine => engine ?? throw NotLoaded();
    internal PrefillClient PrefillClient => prefillClient ?? throw NotLoaded();

    /// <summary>Requests streaming tokens.</summary>
    public int Running => Volatile.Read(ref running);
    /// <summary>Requests admitted and not yet streaming (pulling KV or queued in the engine).</summary>
    public int Waiting => Volatile.Read(ref waiting);
    /// <summary>Sequences in the engine's batch.</summary>
    public int RunningSequences => engine?.RunningCount ?? 0;

    public override LoadReport Load => new(Running, Waiting, Budget.Usage, Budget.ParkedBytes);

    /// <summary>Finished conversations' prompt KV, kept for their next turn within the budget (empty when turned off).</summary>
    internal ConversationCache Conversations => conversations ?? throw NotLoaded();
    internal ConversationCacheMetrics ConversationMetrics => conversationMetrics ?? throw NotLoaded();

    /// <summary>
    /// The longest parked conversation <paramref name="prompt"/> extends, taken out of the cache and planned for a delta
    /// transfer, or null (cache off, no match, or parked entries that cannot serve this prompt exactly).
    /// </summary>
    internal ConversationReuse? FindReusableConversation(IReadOnlyList<int> prompt)
    {
        if (!Options.ConversationCache) return null;
        ConversationMetrics.QueryTokens.Inc(prompt.Count);
        ParkedConversation? parked = Conversations.TakeLongestPrefixOf(prompt);
        return parked is null ? null : ConversationReuse.Plan(parked, Model.KvPolicy, Model.Loaded.Model.Plan.RunBlocks, prompt.Count);
    }

    /// <summary>
    /// A copy of a pulled prompt's KV to park once the request ends (the engine frees the prompt it is given), or null
    /// when the cache is off. Its positions are the policy's for this prompt, which the transfer was checked to hold.
    /// </summary>
    internal ParkedConversation? ParkingCandidate(IReadOnlyList<int> prompt, PrefilledPrompt pulled)
    {
        if (!Options.ConversationCache) return null;
        var blocks = new Dictionary<int, ParkedBlock>();
        foreach (int block in Model.Loaded.Model.Plan.RunBlocks)
        {
            (Tensor keys, Tensor values) = pulled[block];
            blocks[block] = new ParkedBlock(Model.KvPolicy.KeptPositions(block, prompt.Count), keys.clone(), values.clone());
        }
        return new ParkedConversation(prompt, blocks);
    }

    /// <summary>The model's vocabulary, the engine's context, and the sample limit capped by the batch (a request's samples share one).</summary>
    public override RequestLimits Limits => new(Model.Loaded.Model.Config.VocabSize, Engine.MaxContextTokens,
        Math.Min(Options.MaxSamples, Options.MaxBatchSize));

    internal void MarkWaiting(int delta) => Interlocked.Add(ref waiting, delta);
    internal void MarkRunning(int delta) => Interlocked.Add(ref running, delta);

    // The fused kernel splits its own work; torch's partner thread would only wait beside it.
    protected override ModelLoadOptions LoadOptions => new()
    {
        PrefillDtype = Options.PrefillDtype,
        TwoThreadDecode = Options.Threads >= 2 && Options.DecodeKernel == DecodeKernel.Torch,
    };

    protected override void Start(StageModel loaded)
    {
        engine = new InferenceEngine(loaded.Loaded.Model, loaded.Loaded.EosTokenIds, new EngineOptions
        {
            MaxBatchSize = Options.MaxBatchSize,
            MaxContextTokens = Options.MaxContextTokens,
            PromptKvPolicy = loaded.KvPolicy,
            TorchThreads = Options.Threads >= 2 ? 2 : 1,
            DecodeKernel = Options.DecodeKernel,
            FastWeights = Options.FastWeights,
            StepCompleted = step =>
            {
                if (step.Kind == EngineStepKind.Decode) Metrics.DecodeStepSeconds.Observe(step.Duration.TotalSeconds);
                else Metrics.PrefillSeconds.Observe(step.Duration.TotalSeconds);
            },
        });
        // Read at scrape time: a gauge set after each step would keep the last batch's size once the engine goes idle.
        Metrics.Registry.AddBeforeCollectCallback(() => Metrics.RunningSequences.Set(RunningSequences));
        conversationMetrics = new ConversationCacheMetrics(Metrics.Registry);
        conversations = new ConversationCache(Budget, conversationMetrics);
        prefillClient = new PrefillClient(loaded, new PrefillPullSettings(Options.TransferTimeout, Options.ChunkBytes, Options.Host.NodeToken),
            connector, Metrics);
    }

    /// <summary>
    /// KV bytes a request may occupy: per sample, each block's received (or locally kept) prompt entries plus
    /// max_tokens new ones (capped by the context), and once more the prompt entries of the received copy.
    /// </summary>
    internal long ReservationBytes(int promptLength, int samples, int maxTokens, bool received)
    {
        var config = Model.Loaded.Model.Config;
        long bytesPerEntry = 2L * config.NumKvHeads * config.HeadDim * sizeof(float);
        long perSample = 0, prompt = 0;
        foreach (int block in Model.Loaded.Model.Plan.RunBlocks)
        {
            int kept = Model.KvPolicy.KeptCount(block, promptLength);
            perSample += Math.Min((long)kept + maxTokens, Engine.MaxContextTokens);
            prompt += kept;
        }
        return bytesPerEntry * (samples * perSample + (received ? prompt : 0));
    }

    protected override void Stop()
    {
        prefillClient?.Dispose();
        engine?.Dispose();
        conversations?.Dispose();
    }
}
