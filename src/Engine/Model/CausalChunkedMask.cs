using PdServe.Engine.Runtime;
using static TorchSharp.torch;

namespace PdServe.Engine.Model;

/// <summary>
/// A causal additive mask [B|1, 1, T, T] cut into query chunks for grouped-query attention. Chunk c covers queries
/// [Start, Start + Length) and needs only keys [0, Start + Length): attending chunk by chunk skips most of the masked
/// upper triangle, which a single masked attention call would compute and throw away. Each chunk's mask is kept
/// folded (repeated once per query head of a KV group) so every block of a forward pass reuses it.
/// </summary>
public sealed class CausalChunkedMask : IDisposable
{
    /// <summary>Queries per chunk: small enough to skip most of the triangle, large enough to keep GEMMs efficient.</summary>
    public const int ChunkLength = 128;

    public sealed record Chunk(int Start, int Length, Tensor FoldedMask);

    /// <param name="additiveMask">0 where a query may attend, -inf elsewhere; no query may see a later key.</param>
    public CausalChunkedMask(Tensor additiveMask, int queryGroupSize)
    {
        int time = (int)additiveMask.shape[^1];
        var chunks = new List<Chunk>();
        for (int start = 0; start < time; start += ChunkLength)
        {
            int length = Math.Min(ChunkLength, time - start);
            using var scope = NewDisposeScope();
            Tensor rows = additiveMask.narrow(2, start, length).narrow(3, 0, start + length);
            Tensor folded = queryGroupSize == 1 ? rows.contiguous() : rows.repeat(1, 1, queryGroupSize, 1);
            chunks.Add(new Chunk(start, length, folded.DetachFromDisposeScope()));
        }
        Chunks = chunks;
    }

    public IReadOnlyList<Chunk> Chunks { get; }

    /// <summary>True for <see cref="Causal"/>'s mask: every query sees exactly the keys up to its own position.</summary>
    public bool IsPlainCausal { get; private init; }

    /// <summary>The plain causal mask over <paramref name="time"/> positions.</summary>
    public static CausalChunkedMask Causal(int time, int queryGroupSize)
    {
        using Tensor causal = full(time, time, HeldScalars.NegativeInfinity).triu_(1).view(1, 1, time, time);
        return new CausalChunkedMask(causal, queryGroupSize) { IsPlainCausal = true };
    }

    public void Dispose()
    {
        foreach (Chunk chunk in Chunks) chunk.FoldedMask.Dispose();
    }
}
