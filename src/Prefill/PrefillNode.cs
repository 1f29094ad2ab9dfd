using PdServe.Engine.Model;
using PdServe.NodeHosting;

namespace PdServe.Prefill;

/// <summary>
/// The prefill node's state: its model (loaded in the background; /healthz is 503 until then), its workers, the KV
/// it holds for readers, and its metrics.
/// </summary>
public sealed class PrefillNode : IAsyncDisposable
{
    private StageModel? model;
    private PrefillWorkers? workers;

    public PrefillNode(PrefillNodeOptions options)
    {
        if (options.Threads < 1) throw new ArgumentException($"--threads must be >= 1, got {options.Threads}");
        if (options.QueueCapacity < 1) throw new ArgumentException($"the queue capacity must be >= 1, got {options.QueueCapacity}");
        Options = options;
        Metrics = new NodeMetrics(Path.GetFileName(Path.GetFullPath(options.ModelDirectory).TrimEnd(Path.DirectorySeparatorChar)));
    }

    public PrefillNodeOptions Options { get; }
    public NodeReadiness Readiness { get; } = new();
    public NodeMetrics Metrics { get; }
    public KvHoldAccount Holds { get; } = new();

    internal StageModel Model => model ?? throw new InvalidOperationException("the model is not loaded");
    internal PrefillWorkers Workers => workers ?? throw new InvalidOperationException("the model is not loaded");

    public LoadReport Load => workers is { } w
        ? new LoadReport(w.Running, w.Waiting, Math.Min(1.0, (double)Holds.HeldBytes / Options.KvHoldBudgetBytes))
        : new LoadReport(0, 0, 0);

    /// <summary>Loads the prefill stage of the model and starts the workers; failures are reported through <see cref="Readiness"/>.</summary>
    public Task LoadAsync() => Task.Run(() =>
    {
        try
        {
            model = StageModel.Load(Options.ModelDirectory, Options.PlanPath, Stage.Prefill, new ModelLoadOptions
            {
                PrefillDtype = Options.PrefillDtype,
                TwoThreadDecode = false,
            });
            workers = new PrefillWorkers(model, Options.Threads, Options.QueueCapacity, Metrics, Options.TestHooks);
            Readiness.MarkReady();
        }
        catch (Exception error)
        {
            Readiness.MarkFailed(error);
        }
    });

    public ValueTask DisposeAsync()
    {
        workers?.Dispose();
        model?.Dispose();
        return ValueTask.CompletedTask;
    }
}
