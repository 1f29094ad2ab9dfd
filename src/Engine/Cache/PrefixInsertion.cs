using static TorchSharp.torch;

namespace PdServe.Engine.Cache;

/// <summary>
/// The prompt's full blocks a <see cref="PrefixBlockCache"/> does not hold yet, collected while the prompt is
/// prefilled: <see cref="Capture"/> copies each decoder block's rows of those positions as the block finishes (from the
/// same tensors <see cref="CausalLm.Prefill"/> hands its <c>onKvSegment</c>), <see cref="Commit"/> hands them to the cache.
/// Disposing frees whatever was captured and not committed (a prefill that failed or was cancelled).
/// </summary>
public sealed class PrefixInsertion : IDisposable
{
    private readonly PrefixBlockCache cache;
    private readonly IReadOnlyList<int> runBlocks;
    private readonly Dictionary<int, KvSegment>[] captured;
    private bool committed;

    internal PrefixInsertion(PrefixBlockCache cache, int[] tokens, PrefixBlockKey[] keys, int firstBlock, IReadOnlyList<int> runBlocks)
    {
        this.cache = cache;
        this.runBlocks = runBlocks;
        Tokens = tokens;
        Keys = keys;
        FirstBlock = firstBlock;
        captured = Enumerable.Range(0, keys.Length - firstBlock).Select(_ => new Dictionary<int, KvSegment>()).ToArray();
    }

    /// <summary>The prompt's tokens.</summary>
    internal int[] Tokens { get; }

    /// <summary>The keys of the prompt's cacheable blocks, from the first (those before <see cref="FirstBlock"/> are cached).</summary>
    internal PrefixBlockKey[] Keys { get; }

    /// <summary>Index of the first block to insert.</summary>
    public int FirstBlock { get; }

    /// <summary>Blocks this insertion would add.</summary>
    public int BlockCount => captured.Length;

    /// <summary>
    /// Copies decoder block <paramref name="block"/>'s keys and values of the blocks to insert out of the prompt's
    /// <paramref name="keys"/>/<paramref name="values"/> [kvHeads, T, headDim] float32 (every position of the prompt).
    /// </summary>
    public void Capture(int block, Tensor keys, Tensor values)
    {
        if (captured.Length == 0) return;
        if (keys.dtype != ScalarType.Float32 || values.dtype != ScalarType.Float32 || keys.dim() != 3 || keys.shape[1] != Tokens.Length)
            throw new ArgumentException("a prompt's KV is float32 [kvHeads, T, headDim] over every prompt position", nameof(keys));
        int length = cache.BlockTokens;
        using var scope = NewDisposeScope();
        for (int i = 0; i < captured.Length; i++)
        {
            long start = (long)(FirstBlock + i) * length;
            // A copy of exactly the block's rows: its storage is the block's own, so the byte count is exact.
            Tensor k = keys.narrow(1, start, length).unsqueeze(0).clone().DetachFromDisposeScope();
            Tensor v = values.narrow(1, start, length).unsqueeze(0).clone().DetachFromDisposeScope();
            if (captured[i].Remove(block, out KvSegment? earlier))
            {
                earlier.Keys.Dispose();
                earlier.Values.Dispose();
            }
            captured[i][block] = new KvSegment(k, v);
        }
    }

    /// <summary>True once every run block was captured: only a complete prefill may insert.</summary>
    public bool IsComplete => captured.All(blockKv => runBlocks.All(blockKv.ContainsKey));

    /// <summary>Inserts the captured blocks (as many as fit); returns how many the cache took. At most once.</summary>
    public int Commit()
    {
        if (committed) throw new InvalidOperationException("an insertion commits once");
        if (!IsComplete) throw new InvalidOperationException("the prefill did not hand over every block's KV");
        committed = true;
        return cache.Commit(this);
    }

    /// <summary>Takes the captured KV of block <paramref name="index"/> (counted from <see cref="FirstBlock"/>): the cache owns it from then on.</summary>
    internal IReadOnlyDictionary<int, KvSegment> Take(int index)
    {
        Dictionary<int, KvSegment> kv = captured[index];
        captured[index] = [];
        return kv;
    }

    /// <summary>Frees whatever the cache did not take.</summary>
    public void Dispose()
    {
        foreach (Dictionary<int, KvSegment> blockKv in captured)
        {
            foreach (KvSegment entry in blockKv.Values)
            {
                entry.Keys.Dispose();
                entry.Values.Dispose();
            }
            blockKv.Clear();
        }
    }
}
