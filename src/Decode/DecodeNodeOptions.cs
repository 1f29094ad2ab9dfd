using PdServe.NodeHosting;
using static TorchSharp.torch;

namespace PdServe.Decode;

/// <summary>How a decode node runs (`pdserve decode`).</summary>
public sealed record DecodeNodeOptions
{
    public required string ModelDirectory { get; init; }
    /// <summary>Prune plan file; null runs the unpruned model and expects every position in float32.</summary>
    public string? PlanPath { get; init; }
    public NodeHostSettings Host { get; init; } = new();

    /// <summary>Torch threads for decode steps (2 or more splits each step over two threads).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// KV bytes the node admits at once: a request reserves, for each sample, its received prompt entries plus room for
    /// max_tokens more in every block, plus the received copy; a request that does not fit gets RESOURCE_EXHAUSTED.
    /// </summary>
    public long KvBudgetBytes { get; init; } = 1L << 30;

    public int MaxBatchSize { get; init; } = 16;
    public int MaxContextTokens { get; init; } = 2048;

    /// <summary>Longest a pull from a prefill node may take, connection to trailer (DEADLINE_EXCEEDED beyond).</summary>
    public TimeSpan TransferTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>KV payload per chunk asked of prefill nodes (0: the prefill node's default).</summary>
    public uint ChunkBytes { get; init; }

    /// <summary>
    /// The prefill nodes this decode node may pull KV from (`--prefill-nodes`): http://host:port addresses, where host
    /// may be a DNS name that stands for every address it resolves to (a Kubernetes headless Service). A request naming
    /// any other prefill_address is refused; empty trusts none (unified mode only). `pdserve up` passes its prefill nodes.
    /// </summary>
    public IReadOnlyList<string> TrustedPrefillNodes { get; init; } = [];

    /// <summary>Dtype of local (unified-mode) prompt processing.</summary>
    public ScalarType PrefillDtype { get; init; } = ScalarType.BFloat16;
}
