using PdServe.Engine.Model;
using PdServe.NodeHosting.Mapping;

namespace PdServe.NodeHosting;

/// <summary>
/// A node's state, the shape both nodes share: its stage of the model (loaded in the background; /healthz is 503
/// until then), what it admits, its load and its metrics. A subclass starts its workers or engine once the model is
/// loaded and stops them on disposal.
/// </summary>
public abstract class ServingNode : IAsyncDisposable
{
    private readonly NodeOptions options;
    private readonly Stage stage;
    private StageModel? model;
    private int disposed;

    /// <summary>Throws <see cref="ArgumentException"/> for options out of range.</summary>
    protected ServingNode(NodeOptions options, Stage stage)
    {
        options.Validate();
        this.options = options;
        this.stage = stage;
        Metrics = new NodeMetrics(options.ModelName);
    }

    public NodeReadiness Readiness { get; } = new();
    public NodeMetrics Metrics { get; }

    /// <summary>GET /load: what the gateway balances on.</summary>
    public abstract LoadReport Load { get; }

    public StageModel Model => model ?? throw NotLoaded();

    /// <summary>What a request must stay within (see <see cref="PromptValidation"/>); only once loaded.</summary>
    public abstract RequestLimits Limits { get; }

    /// <summary>How this node's stage of the model is loaded.</summary>
    protected abstract ModelLoadOptions LoadOptions { get; }

    /// <summary>Loads the stage's blocks and starts serving; failures are reported through <see cref="Readiness"/>.</summary>
    public Task LoadAsync() => Task.Run(() =>
    {
        try
        {
            model = StageModel.Load(options.ModelDirectory, options.PlanPath, stage, LoadOptions);
            Start(model);
            Readiness.MarkReady();
        }
        catch (Exception error)
        {
            Readiness.MarkFailed(error);
        }
    });

    /// <summary>Starts the node's workers or engine on the loaded model.</summary>
    protected abstract void Start(StageModel loaded);

    /// <summary>Stops what <see cref="Start"/> started (if it did), letting work in flight finish.</summary>
    protected abstract void Stop();

    protected static InvalidOperationException NotLoaded() => new("the model is not loaded");

    /// <summary>Idempotent: the host's container and the running node both let go of it.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return ValueTask.CompletedTask;
        Stop();
        model?.Dispose();
        return ValueTask.CompletedTask;
    }
}
