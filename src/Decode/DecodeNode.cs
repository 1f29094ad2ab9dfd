using PdServe.Decode.Transfer;
using PdServe.Engine.Generation;
using PdServe.Engine.Model;
using PdServe.NodeHosting;

namespace PdServe.Decode;

/// <summary>
/// The decode node's state: its model and engine (loaded in the background; /healthz is 503 until then), the KV
/// budget, the client that pulls KV from prefill nodes, request counts and metrics.
/// </summary>
public sealed class DecodeNode : IAsyncDisposable
{
    private StageModel? model;
    private InferenceEngine? engine;
    private PrefillClient? prefillClient;
    private int running;
    private int waiting;

    public DecodeNode(DecodeNodeOptions options)
    {
        if (options.Threads < 1) throw new ArgumentException($"--threads must be >= 1, got {options.Threads}");
        if (options.KvBudgetBytes < 1) throw new ArgumentException($"the KV budget must be positive, got {options.KvBudgetBytes} bytes");
        Options = options;
        Budget = new KvBudget(options.KvBudgetBytes);
        TrustedPrefillNodes = new TrustedPrefillNodes(options.TrustedPrefillNodes);
        Metrics = new NodeMetrics(Path.GetFileName(Path.GetFullPath(options.ModelDirectory).TrimEnd(Path.DirectorySeparatorChar)));
    }

    public DecodeNodeOptions Options { get; }
    public NodeReadiness Readiness { get; } = new();
    public NodeMetrics Metrics { get; }
    public KvBudget Budget { get; }
    public TrustedPrefillNodes TrustedPrefillNodes { get; }

    internal StageModel Model => model ?? throw new InvalidOperationException("the model is not loaded");
    internal InferenceEngine Engine => engine ?? throw new InvalidOperationException("the model is not loaded");
    internal PrefillClient PrefillClient => prefillClient ?? throw new InvalidOperationException("the model is not loaded");

    /// <summary>Requests streaming tokens.</summary>
    public int Running => Volatile.Read(ref running);
    /// <summary>Requests admitted and not yet streaming (pulling KV or queued in the engine).</summary>
    public int Waiting => Volatile.Read(ref waiting);
    /// <summary>Sequences in the engine's batch.</summary>
    public int RunningSequences => engine?.RunningCount ?? 0;

    public LoadReport Load => new(Running, Waiting, Budget.Usage);

    internal void MarkWaiting(int delta) => Interlocked.Add(ref waiting, delta);
    internal void MarkRunning(int delta) => Interlocked.Add(ref running, delta);

    /// <summary>Loads the decode stage of the model and starts the engine; failures are reported through <see cref="Readiness"/>.</summary>
    public Task LoadAsync() => Task.Run(() =>
    {
        try
        {
            model = StageModel.Load(Options.ModelDirectory, Options.PlanPath, Stage.Decode, new ModelLoadOptions
            {
                PrefillDtype = Options.PrefillDtype,
                TwoThreadDecode = Options.Threads >= 2,
            });
            engine = new InferenceEngine(model.Loaded.Model, model.Loaded.EosTokenIds, new EngineOptions
            {
                MaxBatchSize = Options.MaxBatchSize,
                MaxContextTokens = Options.MaxContextTokens,
                PromptKvPolicy = model.KvPolicy,
                TorchThreads = Options.Threads >= 2 ? 2 : 1,
                StepCompleted = step =>
                {
                    if (step.Kind == EngineStepKind.Decode) Metrics.DecodeStepSeconds.Observe(step.Duration.TotalSeconds);
                    else Metrics.PrefillSeconds.Observe(step.Duration.TotalSeconds);
                    Metrics.RunningSequences.Set(step.Sequences);
                },
            });
            prefillClient = new PrefillClient(model, Options, Metrics);
            Readiness.MarkReady();
        }
        catch (Exception error)
        {
            Readiness.MarkFailed(error);
        }
    });

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

    public ValueTask DisposeAsync()
    {
        prefillClient?.Dispose();
        engine?.Dispose();
        model?.Dispose();
        return ValueTask.CompletedTask;
    }
}
