using PdServe.NodeHosting;
using static TorchSharp.torch;

namespace PdServe.Prefill;

/// <summary>How a prefill node runs (`pdserve prefill`).</summary>
public sealed record PrefillNodeOptions
{
    public required string ModelDirectory { get; init; }
    /// <summary>Prune plan file; null runs the unpruned model and sends every position in float32.</summary>
    public string? PlanPath { get; init; }
    public NodeHostSettings Host { get; init; } = new();

    /// <summary>
    /// Prompts processed at once, each on its own thread with one torch thread: two prompts on one thread each beat one
    /// prompt on two threads here (a second torch thread speeds one prefill up only 1.34×, see bench/RESULTS.md).
    /// </summary>
    public int Threads { get; init; } = 1;

    /// <summary>Prompts accepted but not yet started; beyond this, RESOURCE_EXHAUSTED.</summary>
    public int QueueCapacity { get; init; } = 64;

    /// <summary>
    /// Computed KV the node holds for readers that have not taken it yet; a request arriving while this much is held
    /// is refused with RESOURCE_EXHAUSTED. /load's kv_usage is the held fraction.
    /// </summary>
    public long KvHoldBudgetBytes { get; init; } = 1L << 30;

    /// <summary>How long a computed KV waits for its reader before it is dropped and the call aborted.</summary>
    public TimeSpan KvLease { get; init; } = TimeSpan.FromSeconds(30);

    public ScalarType PrefillDtype { get; init; } = ScalarType.BFloat16;

    /// <summary>Failure injection for tests; never set in production.</summary>
    public PrefillTestHooks? TestHooks { get; init; }
}
