namespace PdServe.Engine.FastPath;

/// <summary>The head layout of grouped-query attention: query head h reads KV head h / (Heads / KvHeads).</summary>
public readonly record struct AttentionShape
{
    public AttentionShape(int heads, int kvHeads, int headDim)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kvHeads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(headDim, 1);
        if (heads % kvHeads != 0) throw new ArgumentException($"{heads} query heads do not split into groups of {kvHeads} KV heads");
        Heads = heads;
        KvHeads = kvHeads;
        HeadDim = headDim;
    }

    public int Heads { get; }
    public int KvHeads { get; }
    public int HeadDim { get; }
    /// <summary>Query heads per KV head.</summary>
    public int GroupSize => Heads / KvHeads;
}
