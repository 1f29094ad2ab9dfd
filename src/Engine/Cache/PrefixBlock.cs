namespace PdServe.Engine.Cache;

/// <summary>
/// One cached block of prompt tokens: its tokens, its parent's key (so a lookup can check the whole chain, not only
/// a hash) and, for every decoder block the stage runs, keys and values [1, kvHeads, BlockTokens, headDim] float32.
/// Owned by <see cref="PrefixBlockCache"/>, which changes <see cref="Pins"/> and <see cref="Recency"/> only under its lock.
/// </summary>
internal sealed class PrefixBlock : IDisposable
{
    public PrefixBlock(PrefixBlockKey key, PrefixBlockKey parent, int[] tokens, IReadOnlyDictionary<int, KvSegment> kv)
    {
        Key = key;
        Parent = parent;
        Tokens = tokens;
        Kv = kv;
        Bytes = kv.Values.Sum(entry => entry.Keys.NumberOfElements * entry.Keys.ElementSize + entry.Values.NumberOfElements * entry.Values.ElementSize);
        Recency = new LinkedListNode<PrefixBlock>(this);
    }

    public PrefixBlockKey Key { get; }
    public PrefixBlockKey Parent { get; }
    public int[] Tokens { get; }
    public IReadOnlyDictionary<int, KvSegment> Kv { get; }

    /// <summary>The tensors' bytes, exactly: what the cache's budget counts.</summary>
    public long Bytes { get; }

    /// <summary>Prefills reading this block (or inserting after it) right now: a pinned block is never evicted.</summary>
    public int Pins { get; set; }

    /// <summary>This block's place in the cache's least-recently-used order.</summary>
    public LinkedListNode<PrefixBlock> Recency { get; }

    /// <summary>Whether this block is the one for <paramref name="tokens"/> after the block keyed <paramref name="parent"/>.</summary>
    public bool Holds(PrefixBlockKey parent, ReadOnlySpan<int> tokens) => Parent == parent && tokens.SequenceEqual(Tokens);

    public void Dispose()
    {
        foreach (KvSegment entry in Kv.Values)
        {
            entry.Keys.Dispose();
            entry.Values.Dispose();
        }
    }
}
