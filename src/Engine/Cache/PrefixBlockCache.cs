namespace PdServe.Engine.Cache;

/// <summary>
/// Prompt KV kept across requests in blocks of <see cref="BlockTokens"/> tokens, so that a prompt sharing leading
/// blocks with an earlier one computes only the rest. Block i's key chains the keys of blocks 0..i−1 and the model's
/// fingerprint (<see cref="PrefixBlockKey"/>); its value is every run decoder block's keys and values of those
/// positions. Only full blocks are cached, never the one holding a prompt's last token (its logits must be
/// computed). The cache holds at most <see cref="BudgetBytes"/> of KV and evicts whole blocks, least recently used
/// first; each use touches a chain from its last block back to its first, so an ancestor is always more recent
/// than its descendants and eviction takes leaves first. Blocks a prefill reads are pinned and never evicted.
/// Thread-safe: every prefill worker of a node shares one cache.
/// </summary>
public sealed class PrefixBlockCache : IDisposable
{
    public const int DefaultBlockTokens = 128;

    private readonly Lock gate = new();
    private readonly Dictionary<PrefixBlockKey, PrefixBlock> blocks = [];
    // First: the most recently used.
    private readonly LinkedList<PrefixBlock> recency = new();
    private readonly PrefixBlockKey root;
    private long bytes;
    private long queryTokens;
    private long hitTokens;
    private long evictions;
    private long insertedBlocks;
    private bool disposed;

    /// <param name="fingerprint">What the KV depends on besides the tokens: weights, plan (skipped blocks), prefill dtype.</param>
    /// <param name="runBlocks">The decoder blocks whose KV a prefill produces.</param>
    /// <param name="budgetBytes">KV bytes the cache may hold; less than one block's (0, say) turns it off.</param>
    /// <param name="blockTokens">Tokens per block; a model's prefill needs a multiple of its query chunk (see <c>CausalLm.CreatePrefixCache</c>).</param>
    public PrefixBlockCache(string fingerprint, IReadOnlyList<int> runBlocks, int kvHeads, int headDim, long budgetBytes,
        int blockTokens = DefaultBlockTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(budgetBytes);
        RunBlocks = runBlocks.ToArray();
        BlockTokens = blockTokens;
        BudgetBytes = budgetBytes;
        BytesPerBlock = (long)RunBlocks.Count * 2 * kvHeads * blockTokens * headDim * sizeof(float);
        // The block size is part of the chain's identity: the same tokens cut differently are other blocks.
        root = PrefixBlockKey.Root($"{fingerprint}\nblock_tokens={blockTokens}");
    }

    public IReadOnlyList<int> RunBlocks { get; }
    public int BlockTokens { get; }
    public long BudgetBytes { get; }

    /// <summary>KV bytes of one block: run blocks × (keys, values) × kvHeads × BlockTokens × headDim × 4.</summary>
    public long BytesPerBlock { get; }

    /// <summary>False when the budget holds no block: lookups miss and insertions keep nothing.</summary>
    public bool Enabled => BudgetBytes >= BytesPerBlock;

    /// <summary>
    /// How many leading blocks of a <paramref name="promptTokens"/>-token prompt may be reused: the full blocks
    /// before the one that holds the last token, floor((T − 1) / B).
    /// </summary>
    public static int ReusableBlocks(int promptTokens, int blockTokens) => promptTokens < 1 ? 0 : (promptTokens - 1) / blockTokens;

    public PrefixCacheStatistics Statistics
    {
        get
        {
            lock (gate) return new PrefixCacheStatistics(queryTokens, hitTokens, bytes, blocks.Count, evictions, insertedBlocks);
        }
    }

    /// <summary>
    /// The longest chain of <paramref name="tokens"/>' leading blocks held here, pinned until the hit is disposed
    /// (a miss is an empty hit). Counts the prompt's tokens as queried and the hit's as found.
    /// </summary>
    public PrefixHit Lookup(IReadOnlyList<int> tokens)
    {
        int[] ids = [.. tokens];
        PrefixBlockKey[] keys = PrefixBlockKey.Chain(root, ids, BlockTokens, Enabled ? ReusableBlocks(ids.Length, BlockTokens) : 0);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            queryTokens += ids.Length;
            List<PrefixBlock> found = FindChain(ids, keys, keys.Length);
            if (found.Count == 0) return PrefixHit.None;
            foreach (PrefixBlock block in found) block.Pins++;
            Touch(found);
            hitTokens += (long)found.Count * BlockTokens;
            return new PrefixHit(this, found, BlockTokens);
        }
    }

    /// <summary>
    /// Starts collecting <paramref name="tokens"/>' cacheable blocks that are not held yet, after the
    /// <paramref name="cachedTokens"/> a lookup found (0 for a prompt that did not look up, such as one being scored).
    /// </summary>
    public PrefixInsertion BeginInsert(IReadOnlyList<int> tokens, int cachedTokens)
    {
        int[] ids = [.. tokens];
        int reusable = Enabled ? ReusableBlocks(ids.Length, BlockTokens) : 0;
        if (cachedTokens < 0 || cachedTokens % BlockTokens != 0)
            throw new ArgumentOutOfRangeException(nameof(cachedTokens), $"{cachedTokens} cached tokens are not whole blocks of {BlockTokens}");
        PrefixBlockKey[] keys = PrefixBlockKey.Chain(root, ids, BlockTokens, reusable);
        int first = Math.Min(cachedTokens / BlockTokens, reusable);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            // Blocks already held (another prompt inserted them, or this one did not look up) need no copy.
            first = Math.Max(first, FindChain(ids, keys, reusable).Count);
        }
        return new PrefixInsertion(this, ids, keys, first, RunBlocks);
    }

    /// <summary>The held blocks of the chain <paramref name="keys"/>, from the first, up to the first one missing.</summary>
    private List<PrefixBlock> FindChain(int[] tokens, PrefixBlockKey[] keys, int count)
    {
        var found = new List<PrefixBlock>();
        PrefixBlockKey parent = root;
        for (int i = 0; i < count; i++)
        {
            if (!blocks.TryGetValue(keys[i], out PrefixBlock? block) || !block.Holds(parent, tokens.AsSpan(i * BlockTokens, BlockTokens))) break;
            found.Add(block);
            parent = keys[i];
        }
        return found;
    }

    internal int Commit(PrefixInsertion insertion)
    {
        lock (gate)
        {
            if (disposed || insertion.BlockCount == 0) return 0;
            int[] tokens = insertion.Tokens;
            PrefixBlockKey[] keys = insertion.Keys;
            // The blocks before the new ones must still be here, or the new ones could never be reached.
            List<PrefixBlock> chain = FindChain(tokens, keys, insertion.FirstBlock);
            if (chain.Count < insertion.FirstBlock) return 0;
            // Pinned while this insertion makes room: its own chain is never the one evicted.
            foreach (PrefixBlock block in chain) block.Pins++;
            int added = 0;
            try
            {
                for (int i = insertion.FirstBlock; i < keys.Length; i++)
                {
                    PrefixBlockKey parent = i == 0 ? root : keys[i - 1];
                    ReadOnlySpan<int> blockTokens = tokens.AsSpan(i * BlockTokens, BlockTokens);
                    if (blocks.TryGetValue(keys[i], out PrefixBlock? existing))
                    {
                        // Inserted by another prompt meanwhile (its copy is freed with the insertion); a different
                        // block under the same key is a hash collision: the chain stops here.
                        if (!existing.Holds(parent, blockTokens)) break;
                        existing.Pins++;
                        chain.Add(existing);
                        continue;
                    }
                    if (!MakeRoom()) break;
                    var block = new PrefixBlock(keys[i], parent, blockTokens.ToArray(), insertion.Take(i - insertion.FirstBlock));
                    blocks.Add(block.Key, block);
                    recency.AddFirst(block.Recency);
                    bytes += block.Bytes;
                    insertedBlocks++;
                    added++;
                    block.Pins++;
                    chain.Add(block);
                }
            }
            finally
            {
                foreach (PrefixBlock block in chain) block.Pins--;
                Touch(chain);
            }
            return added;
        }
    }

    /// <summary>Evicts least recently used unpinned blocks until one more block fits; false when it cannot.</summary>
    private bool MakeRoom()
    {
        if (!Enabled) return false;
        while (bytes + BytesPerBlock > BudgetBytes)
        {
            LinkedListNode<PrefixBlock>? candidate = recency.Last;
            while (candidate is not null && candidate.Value.Pins > 0) candidate = candidate.Previous;
            if (candidate is null) return false;
            PrefixBlock victim = candidate.Value;
            blocks.Remove(victim.Key);
            recency.Remove(victim.Recency);
            bytes -= victim.Bytes;
            evictions++;
            victim.Dispose();
        }
        return true;
    }

    /// <summary>Marks a chain used: its last block first, so its first block ends up the most recent.</summary>
    private void Touch(List<PrefixBlock> chain)
    {
        for (int i = chain.Count - 1; i >= 0; i--)
        {
            LinkedListNode<PrefixBlock> node = chain[i].Recency;
            if (node.List is null) continue;
            recency.Remove(node);
            recency.AddFirst(node);
        }
    }

    internal void Release(IReadOnlyList<PrefixBlock> pinned)
    {
        lock (gate)
        {
            foreach (PrefixBlock block in pinned) block.Pins--;
        }
    }

    /// <summary>
    /// Frees every block's tensors, pinned ones included: stop the prefills that read them first (the prefill node
    /// stops its workers before). Lookups and insertions afterwards fail; a late commit keeps nothing.
    /// </summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            foreach (PrefixBlock block in blocks.Values) block.Dispose();
            blocks.Clear();
            recency.Clear();
            bytes = 0;
        }
    }
}
