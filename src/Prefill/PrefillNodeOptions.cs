using PdServe.Engine.Cache;
using PdServe.Engine.Model;
using PdServe.NodeHosting;

namespace PdServe.Prefill;

/// <summary>How a prefill node runs (`pdserve prefill`), beyond what every node is started with.</summary>
public sealed record PrefillNodeOptions : NodeOptions
{
    /// <summary>
    /// <see cref="NodeOptions.Threads"/> is the prompts processed at once, each on its own thread with one torch thread:
    /// two prompts on one thread each beat one prompt on two threads here (a second torch thread speeds one prefill up
    /// only 1.34×, see bench/RESULTS.md).
    /// </summary>
    public PrefillNodeOptions() => Threads = 1;

    /// <summary>Prompts accepted but not yet started; beyond this, RESOURCE_EXHAUSTED.</summary>
    public int QueueCapacity { get; init; } = 64;

    /// <summary>
    /// Computed KV the node holds for readers that have not taken it yet; a request arriving while this much is held
    /// is refused with RESOURCE_EXHAUSTED. /load's kv_usage is the held fraction.
    /// </summary>
    public long KvHoldBudgetBytes { get; init; } = 1L << 30;

    /// <summary>How long a computed KV waits for its reader before it is dropped and the call aborted.</summary>
    public TimeSpan KvLease { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// KV bytes of prompt prefixes kept for later prompts that start the same way (<c>--prefix-cache-mb</c>); 0 turns
    /// the prefix cache off.
    /// </summary>
    public long PrefixCacheBytes { get; init; } = 256L << 20;

    /// <summary>Tokens per cached prefix block (<c>--prefix-block-tokens</c>), a multiple of the attention's query chunk.</summary>
    public int PrefixBlockTokens { get; init; } = PrefixBlockCache.DefaultBlockTokens;

    public override void Validate()
    {
        base.Validate();
        if (QueueCapacity < 1) throw new ArgumentException($"the queue capacity must be >= 1, got {QueueCapacity}");
        if (PrefixCacheBytes < 0) throw new ArgumentException($"the prefix cache budget must be >= 0 bytes, got {PrefixCacheBytes}");
        if (PrefixBlockTokens < 1 || PrefixBlockTokens % CausalChunkedMask.ChunkLength != 0)
            throw new ArgumentException($"--prefix-block-tokens must be a positive multiple of {CausalChunkedMask.ChunkLength}, got {PrefixBlockTokens}");
    }
}
