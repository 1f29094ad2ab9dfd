using PdServe.Decode.Admission;
using PdServe.Engine.FastPath;
using PdServe.Engine.Generation;
using PdServe.NodeHosting;

namespace PdServe.Decode;

/// <summary>How a decode node runs (`pdserve decode`), beyond what every node is started with.</summary>
public sealed record DecodeNodeOptions : NodeOptions
{
    /// <summary><see cref="NodeOptions.Threads"/> is the torch threads of decode steps (2 or more split each step over two threads).</summary>
    public DecodeNodeOptions() => Threads = Environment.ProcessorCount;

    /// <summary>
    /// KV bytes the node admits at once: a request reserves, for each sample, its received prompt entries plus room for
    /// max_tokens more in every block, plus the received copy; a request that does not fit gets RESOURCE_EXHAUSTED.
    /// </summary>
    public long KvBudgetBytes { get; init; } = 1L << 30;

    /// <summary>Sequences decoded together in one step; a request's samples share one batch.</summary>
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

    public override void Validate()
    {
        base.Validate();
        if (KvBudgetBytes < 1) throw new ArgumentException($"the KV budget must be positive, got {KvBudgetBytes} bytes");
    }

    /// <summary>
    /// Whether a finished request's prompt KV is parked (within the KV budget, evicted first) so that a request extending
    /// the prompt — the conversation's next turn — pulls only the new positions' KV (`--conversation-cache on|off`).
    /// </summary>
    public bool ConversationCache { get; init; } = true;

    /// <summary>What runs decode steps (torch, or the fused C# kernel); prefill stays on torch.</summary>
    public DecodeKernel DecodeKernel { get; init; } = DecodeKernel.Fast;

    /// <summary>The fused kernel's weight format; null keeps the model's dtype, Int8 quantizes at load.</summary>
    public WeightFormat? FastWeights { get; init; }
}
