using PdServe.Engine.Runtime;
using static TorchSharp.torch;

namespace PdServe.Engine.Model;

/// <summary>
/// A causal additive mask [B|1, 1, T, T] cut into query chunks for grouped-query attention. Chunk c covers queries
/// [Start, Start + Length) and needs only keys [0, Start + Length): attending chunk by chunk skips most of the masked
/// upper triangle, which a single masked attention call would compute and throw away. Each chunk's mask is kept
/// folded (repeated once per query head of a KV group) so every block of a forward pass reuses it.
/// A mask over new queries that follow P earlier keys (a prompt whose prefix KV came from a cache) has P more key
/// columns than query rows; its chunks start at the same absolute positions as a whole prompt's when P is a
/// multiple of <see cref="ChunkLength"/>, so each chunk attends exactly as it would in a cold prefill.
/// </summary>
public sealed class CausalChunkedMask : IDisposable
{
    /// <summary>Queries per chunk: small enough to skip most of the triangle, large enough to keep GEMMs efficient.</summary>
    public const int ChunkLength = 128;

    /// <param name="Start">First query of the chunk, counted among the new queries.</param>
    /// <param name="VisibleKeys">Keys [0, VisibleKeys) the chunk needs: the earlier keys and the new ones up to its end.</param>
    public sealed record Chunk(int Start, int Length, int VisibleKeys, Tensor FoldedMask);

    /// <param name="additiveMask">
    /// [B|1, 1, T, P + T]: 0 where a query may attend, -inf elsewhere; no query may see a later key. Query t sits at
    /// position P + t, after the P earlier keys.
    /// </param>
    public CausalChunkedMask(Tensor additiveMask, int queryGroupSize)
    {
        int time = (int)additiveMask.shape[^2];
        PrefixLength = (int)additiveMask.shape[^1] - time;
        if (PrefixLength < 0) throw new ArgumentException("a mask needs at least one key column per query row", nameof(additiveMask));
        var chunks = new List<Chunk>();
        for (int start = 0; start < time; start += ChunkLength)
        {
            int length = Math.Min(ChunkLength, time - start);
            int visible = PrefixLength + start + length;
            using var scope = NewDisposeScope();
            Tensor rows = additiveMask.narrow(2, start, length).narrow(3, 0, visible);
            Tensor folded = queryGroupSize == 1 ? rows.contiguous() : rows.repeat(1, 1, queryGroupSize, 1);
            chunks.Add(new Chunk(start, length, visible, folded.DetachFromDisposeScope()));
        }
        Chunks = chunks;
    }

    public IReadOnlyList<Chunk> Chunks { get; }

    /// <summary>Keys before the first query (0 for a whole sequence).</summary>
    public int PrefixLength { get; }

    /// <summary>True for <see cref="Causal"/>'s mask: every query sees exactly the keys up to its own position.</summary>
    public bool IsPlainCausal { get; private init; }

    /// <summary>The plain causal mask over <paramref name="time"/> positions.</summary>
    public static CausalChunkedMask Causal(int time, int queryGroupSize)
    {
        using Tensor causal = full(time, time, HeldScalars.NegativeInfinity).triu_(1).view(1, 1, time, time);
        return new CausalChunkedMask(causal, queryGroupSize) { IsPlainCausal = true };
    }

    /// <summary>
    /// The causal mask of <paramref name="time"/> new positions after <paramref name="prefixLength"/> earlier ones:
    /// every new query sees all earlier keys and the new keys up to its own position.
    /// </summary>
    public static CausalChunkedMask CausalAfter(int prefixLength, int time, int queryGroupSize)
    {
        if (prefixLength == 0) return Causal(time, queryGroupSize);
        using Tensor causal = full(time, prefixLength + time, HeldScalars.NegativeInfinity).triu_(prefixLength + 1)
            .view(1, 1, time, prefixLength + time);
        return new CausalChunkedMask(causal, queryGroupSize);
    }

    public void Dispose()
    {
        foreach (Chunk chunk in Chunks) chunk.FoldedMask.Dispose();
    }
}
