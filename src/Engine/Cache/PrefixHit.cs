namespace PdServe.Engine.Cache;

/// <summary>
/// The leading blocks of a prompt found in a <see cref="PrefixBlockCache"/>, pinned there until this is disposed so
/// that no eviction frees their tensors while a prefill reads them. Pass it to <see cref="CausalLm.Prefill"/>.
/// </summary>
public sealed class PrefixHit : IDisposable
{
    private readonly PrefixBlockCache? owner;
    private readonly IReadOnlyList<PrefixBlock> blocks;
    private int released;

    internal PrefixHit(PrefixBlockCache? owner, IReadOnlyList<PrefixBlock> blocks, int blockTokens)
    {
        this.owner = owner;
        this.blocks = blocks;
        Tokens = blocks.Count * blockTokens;
    }

    /// <summary>A miss: nothing to reuse, nothing pinned.</summary>
    public static PrefixHit None { get; } = new(null, [], 0);

    /// <summary>Leading prompt tokens whose KV this hit holds.</summary>
    public int Tokens { get; }

    public int Blocks => blocks.Count;

    /// <summary>Decoder block <paramref name="block"/>'s keys and values of the hit's positions, one segment per cached block, in order.</summary>
    public IReadOnlyList<KvSegment> Segments(int block)
    {
        var segments = new KvSegment[blocks.Count];
        for (int i = 0; i < blocks.Count; i++)
        {
            if (!blocks[i].Kv.TryGetValue(block, out KvSegment? kv))
                throw new ArgumentException($"the cached prefix has no KV for block {block}", nameof(block));
            segments[i] = kv;
        }
        return segments;
    }

    internal IReadOnlyList<PrefixBlock> CachedBlocks => blocks;

    /// <summary>Unpins the blocks (once).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref released, 1) == 0) owner?.Release(blocks);
    }
}
