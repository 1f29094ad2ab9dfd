using System.Runtime.CompilerServices;

namespace PdServe.Engine.FastPath;

/// <summary>
/// One decode step's attention for B sequences over the engine's KV cache, without a mask: sequence b lives in
/// cache slot b and attends over exactly its first lengths[b] stored entries. The cache layout is KvCache's: per
/// block, keys and values [slot, kvHead, capacity, headDim] f32, RoPE already applied to the keys at their true
/// positions — so a slot holding a subset of the prompt's positions needs nothing special, and nothing past an
/// entry's length (stale or non-finite) is ever read.
/// <para>
/// Work items are (sequence, KV head) pairs, b · KvHeads + kvHead: the group of query heads sharing a KV head is
/// computed together, so each key and value row is read once for the group. Within an item, positions go in
/// chunks of <see cref="ChunkPositions"/>: scores for the chunk, then an online softmax (the running output is
/// rescaled when the maximum grows) and the weighted values. Scale 1/√headDim.
/// </para>
/// </summary>
// No zeroing of stackalloc buffers: the score, maximum and sum buffers are written before they are read.
[SkipLocalsInit]
public static unsafe class AttentionKernel
{
    public const int ChunkPositions = 64;
    private const int MaxScoreFloats = 16384;

    /// <summary>The work items of a step, for <see cref="WorkerPool.Run"/>.</summary>
    public static int Items(AttentionShape shape, int batch) => batch * shape.KvHeads;

    /// <summary>
    /// Items [itemStart, itemEnd) of the step. <paramref name="queries"/> and <paramref name="output"/> are
    /// [batch, Heads, HeadDim]; <paramref name="keys"/> and <paramref name="values"/> point at slot 0 of one block's
    /// tensors [slots ≥ batch, KvHeads, capacity, HeadDim]; <paramref name="lengths"/> has batch entries, each at most
    /// <paramref name="capacity"/>. A sequence with no entries gets zeros.
    /// </summary>
    public static void Attend(KernelIsa isa, AttentionShape shape, float* queries, float* keys, float* values, int capacity,
        int* lengths, int batch, float* output, int itemStart, int itemEnd)
    {
        KernelCapabilities.Require(isa);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(itemStart);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(itemEnd, Items(shape, batch));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(itemStart, itemEnd);
        int group = shape.GroupSize;
        if ((long)group * ChunkPositions > MaxScoreFloats)
            throw new ArgumentException($"query groups above {MaxScoreFloats / ChunkPositions} heads are not supported", nameof(shape));
        float* scores = stackalloc float[group * ChunkPositions];
        float* maxima = stackalloc float[group];
        float* sums = stackalloc float[group];
        for (int item = itemStart; item < itemEnd; item++)
        {
            int sequence = item / shape.KvHeads, kvHead = item % shape.KvHeads;
            int length = lengths[sequence];
            if (length < 0 || length > capacity)
                throw new ArgumentOutOfRangeException(nameof(lengths), $"sequence {sequence} has {length} entries, the cache holds {capacity}");
            nint cacheOffset = ((nint)sequence * shape.KvHeads + kvHead) * capacity * shape.HeadDim;
            nint queryOffset = ((nint)sequence * shape.Heads + kvHead * group) * shape.HeadDim;
            AttendGroup(isa, shape.HeadDim, group, queries + queryOffset, keys + cacheOffset, values + cacheOffset, length,
                output + queryOffset, scores, maxima, sums);
        }
    }

    /// <summary>
    /// The whole step with spans: <paramref name="keys"/>/<paramref name="values"/> [batch, KvHeads, capacity, HeadDim],
    /// <paramref name="queries"/>/<paramref name="output"/> [batch, Heads, HeadDim], batch = lengths.Length.
    /// </summary>
    public static void Attend(KernelIsa isa, AttentionShape shape, ReadOnlySpan<float> queries, ReadOnlySpan<float> keys,
        ReadOnlySpan<float> values, int capacity, ReadOnlySpan<int> lengths, Span<float> output) =>
        Attend(isa, shape, queries, keys, values, capacity, lengths, output, 0, Items(shape, lengths.Length));

    /// <summary>Items [itemStart, itemEnd) of the span form above (the span form of a pool job's slice).</summary>
    public static void Attend(KernelIsa isa, AttentionShape shape, ReadOnlySpan<float> queries, ReadOnlySpan<float> keys,
        ReadOnlySpan<float> values, int capacity, ReadOnlySpan<int> lengths, Span<float> output, int itemStart, int itemEnd)
    {
        int batch = lengths.Length;
        long perSequence = (long)shape.Heads * shape.HeadDim, cache = (long)batch * shape.KvHeads * capacity * shape.HeadDim;
        if (queries.Length < batch * perSequence || output.Length < batch * perSequence)
            throw new ArgumentException($"queries and output need {batch} × {shape.Heads} × {shape.HeadDim} values");
        if (keys.Length < cache || values.Length < cache)
            throw new ArgumentException($"keys and values need {batch} × {shape.KvHeads} × {capacity} × {shape.HeadDim} values");
        fixed (float* q = queries)
        fixed (float* k = keys)
        fixed (float* v = values)
        fixed (int* l = lengths)
        fixed (float* o = output)
            Attend(isa, shape, q, k, v, capacity, l, batch, o, itemStart, itemEnd);
    }

    private static void AttendGroup(KernelIsa isa, int headDim, int group, float* queries, float* keys, float* values, int length,
        float* output, float* scores, float* maxima, float* sums)
    {
        float scale = (float)(1.0 / Math.Sqrt(headDim));
        for (int g = 0; g < group; g++)
        {
            maxima[g] = float.NegativeInfinity;
            sums[g] = 0f;
            new Span<float>(output + (nint)g * headDim, headDim).Clear();
        }
        for (int start = 0; start < length; start += ChunkPositions)
        {
            int count = Math.Min(ChunkPositions, length - start);
            for (int t = 0; t < count; t++)
            {
                float* key = keys + (nint)(start + t) * headDim;
                for (int g = 0; g < group; g++)
                    scores[g * ChunkPositions + t] = VectorKernels.Dot(isa, queries + (nint)g * headDim, key, headDim) * scale;
            }
            for (int g = 0; g < group; g++)
            {
                float* row = scores + g * ChunkPositions;
                float chunkMax = VectorKernels.Max(isa, row, count);
                float newMax = Math.Max(maxima[g], chunkMax);
                if (newMax > maxima[g] && sums[g] > 0f)
                {
                    // The earlier chunks were weighted against a smaller maximum: bring them down to the new one.
                    float rescale = MathF.Exp(maxima[g] - newMax);
                    VectorKernels.Scale(isa, output + (nint)g * headDim, headDim, rescale);
                    sums[g] *= rescale;
                }
                maxima[g] = newMax;
                sums[g] += VectorKernels.ExpSubtract(isa, row, count, newMax);
            }
            for (int t = 0; t < count; t++)
            {
                float* value = values + (nint)(start + t) * headDim;
                for (int g = 0; g < group; g++)
                    VectorKernels.MultiplyAdd(isa, output + (nint)g * headDim, value, scores[g * ChunkPositions + t], headDim);
            }
        }
        if (length == 0) return;
        for (int g = 0; g < group; g++) VectorKernels.Scale(isa, output + (nint)g * headDim, headDim, 1f / sums[g]);
    }
}
