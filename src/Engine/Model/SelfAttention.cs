using TorchSharp;
using PdServe.Engine.Cache;
using PdServe.Engine.Runtime;
using static TorchSharp.torch;

namespace PdServe.Engine.Model;

/// <summary>
/// Grouped-query self-attention with rotary positions. q, k and v come from one fused matrix product.
/// Keys are cached after RoPE, at their true positions, so a cache that lost some entries stays valid.
/// </summary>
public sealed class SelfAttention : nn.Module
{
    private readonly Projection qkv;
    private readonly Projection output;
    private readonly int heads;
    private readonly int kvHeads;
    private readonly int headDim;
    // Held for the module's life: see HeldScalars.
    private readonly Scalar scale;

    public SelfAttention(Projection qkv, Projection output, int heads, int kvHeads, int headDim) : base(nameof(SelfAttention))
    {
        this.qkv = qkv;
        this.output = output;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        scale = (1.0 / Math.Sqrt(headDim)).ToScalar();
        RegisterComponents();
    }

    internal Projection Qkv => qkv;
    internal Projection Output => output;

    /// <summary>
    /// Attention over a whole sequence, or over new positions after a cached prefix. <paramref name="x"/> is the normed
    /// input [B, T, hidden] in the compute dtype. <paramref name="prefix"/> (batch 1 only) holds the keys and values of
    /// the <see cref="CausalChunkedMask.PrefixLength"/> earlier positions as consecutive segments [1, kvHeads, n, headDim]
    /// (float32, RoPE applied), as this method returned them for an earlier prompt. Returns the block's attention output
    /// in the compute dtype, and the keys and values of every position, prefix included, [B, kvHeads, P + T, headDim]
    /// in float32.
    /// </summary>
    public Tensor ForwardSequence(Tensor x, Tensor positions, int maxPosition, RotaryEmbedding rope,
        CausalChunkedMask mask, out Tensor keys, out Tensor values, IReadOnlyList<KvSegment>? prefix = null)
    {
        using var scope = NewDisposeScope();
        (Tensor q, Tensor k, Tensor v) = Project(x, positions, maxPosition, rope);
        long batch = x.shape[0], time = x.shape[1];
        if (mask.PrefixLength > 0)
        {
            if (prefix is null || batch != 1) throw new ArgumentException("a mask after a prefix needs the prefix's KV, for one sequence", nameof(prefix));
            // One concatenation gives both the keys attention reads and the full-prompt KV the caller receives.
            k = cat([.. prefix.Select(segment => segment.Keys), k], 2);
            v = cat([.. prefix.Select(segment => segment.Values), v], 2);
            if (k.shape[2] != mask.PrefixLength + time)
                throw new ArgumentException($"the prefix holds {k.shape[2] - time} positions, the mask expects {mask.PrefixLength}", nameof(prefix));
        }
        int group = heads / kvHeads;
        // The query heads of one KV group attend as one sequence of G·chunk queries (no KV head is copied), and each
        // query chunk sees only the keys up to its end; both measured faster here than the flash kernel over
        // repeated KV heads with its causal flag. In fp32 the fused attention kernel runs; in bf16 (prompt
        // processing) the two products run as bf16 GEMMs with mask and softmax in fp32, which measured faster
        // still, at the precision the rest of a bf16 prefill has.
        if (mask.IsPlainCausal && is_grad_enabled())
        {
            Tensor trained = AttendCausalForTraining(q.to(x.dtype), k.to(x.dtype), v.to(x.dtype));
            keys = k.MoveToOuterDisposeScope();
            values = v.MoveToOuterDisposeScope();
            return output.forward(trained.transpose(1, 2).reshape(batch, time, heads * headDim)).MoveToOuterDisposeScope();
        }
        bool lowPrecision = x.dtype != ScalarType.Float32;
        Tensor queries = (lowPrecision ? q.to(x.dtype) : q).view(batch, kvHeads, group, time, headDim);
        Tensor attendKeys = lowPrecision ? k.to(x.dtype) : k;
        Tensor attendValues = lowPrecision ? v.to(x.dtype) : v;
        var outputs = new List<Tensor>(mask.Chunks.Count);
        foreach (CausalChunkedMask.Chunk chunk in mask.Chunks)
        {
            Tensor chunkQueries = queries.narrow(3, chunk.Start, chunk.Length).reshape(batch, kvHeads, group * chunk.Length, headDim);
            Tensor chunkKeys = attendKeys.narrow(2, 0, chunk.VisibleKeys), chunkValues = attendValues.narrow(2, 0, chunk.VisibleKeys);
            Tensor attended = lowPrecision
                ? AttendWithGemms(chunkQueries, chunkKeys, chunkValues, chunk.FoldedMask)
                : nn.functional.scaled_dot_product_attention(chunkQueries, chunkKeys, chunkValues, attn_mask: chunk.FoldedMask);
            outputs.Add(attended.view(batch, heads, chunk.Length, headDim));
        }
        Tensor all = outputs.Count == 1 ? outputs[0] : cat(outputs, 2);
        Tensor merged = all.transpose(1, 2).reshape(batch, time, heads * headDim);
        if (merged.dtype != x.dtype) merged = merged.to(x.dtype);
        keys = k.MoveToOuterDisposeScope();
        values = v.MoveToOuterDisposeScope();
        return output.forward(merged).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One decode step for the sequences in cache slots 0..B-1 (<paramref name="x"/> [B, hidden], normed, in
    /// the compute dtype; <paramref name="rotation"/> from <see cref="RotaryEmbedding.DecodeRotation"/>): appends their new key/value to
    /// <paramref name="cache"/> and attends over each slot's stored entries. <paramref name="additiveMask"/>
    /// [B, 1, 1, L] (L the longest slot after the append) hides the entries beyond each slot's length.
    /// </summary>
    public Tensor ForwardDecode(Tensor x, Tensor rotation, KvCache cache, int block, Tensor additiveMask, PartnerThread? split)
    {
        using var scope = NewDisposeScope();
        long batch = x.shape[0];
        Tensor fused = qkv.Forward(x, split).view(batch, heads + 2 * kvHeads, headDim);
        Tensor queryKey = fused.narrow(1, 0, heads + kvHeads);
        if (queryKey.dtype != ScalarType.Float32) queryKey = queryKey.to(ScalarType.Float32);
        Tensor rotated = bmm(queryKey, rotation); // [B, heads + kvHeads, headDim]
        Tensor v = fused.narrow(1, heads + kvHeads, kvHeads);
        cache.AppendToFirstSlots(block, rotated.narrow(1, heads, kvHeads), v.dtype == ScalarType.Float32 ? v : v.to(ScalarType.Float32));
        (Tensor cachedK, Tensor cachedV, _) = cache.View(block, (int)batch);
        // Fold the query heads of one KV group into the "query length" axis: no KV head is copied.
        Tensor groupedQ = rotated.narrow(1, 0, heads).reshape(batch, kvHeads, heads / kvHeads, headDim);
        Tensor attended = split is null || batch < 2
            ? nn.functional.scaled_dot_product_attention(groupedQ, cachedK, cachedV, attn_mask: additiveMask)
            : AttendInHalves(groupedQ, cachedK, cachedV, additiveMask, split);
        Tensor merged = attended.reshape(batch, heads * headDim);
        if (merged.dtype != x.dtype) merged = merged.to(x.dtype);
        return output.Forward(merged, split).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Attention of new positions that follow earlier entries (<paramref name="prefixKeys"/>/<paramref name="prefixValues"/>
    /// [B, kvHeads, P, headDim], fp32, RoPE applied at their true positions; possibly a subset of the earlier
    /// positions), computed explicitly in fp32. <paramref name="additiveMask"/> [B|1, 1, T, P + T] says which entries
    /// each new query sees. This is the teacher-forced form of decode steps over a cache: one call scores a whole
    /// continuation. Returns the attention output in <paramref name="x"/>'s dtype, the new positions' keys and values
    /// [B, kvHeads, T, headDim] (fp32) and, when <paramref name="keepWeights"/>, the weights [B, heads, T, P + T].
    /// </summary>
    public Tensor ForwardAfterPrefix(Tensor x, Tensor positions, int maxPosition, RotaryEmbedding rope, Tensor? prefixKeys,
        Tensor? prefixValues, Tensor additiveMask, bool keepWeights, out Tensor keys, out Tensor values, out Tensor? weights)
    {
        using var scope = NewDisposeScope();
        (Tensor q, Tensor k, Tensor v) = Project(x, positions, maxPosition, rope);
        long batch = x.shape[0], time = x.shape[1];
        int group = heads / kvHeads;
        Tensor allKeys = prefixKeys is null ? k : cat([prefixKeys, k], 2);
        Tensor allValues = prefixValues is null ? v : cat([prefixValues, v], 2);
        long visible = allKeys.shape[2];
        // The query heads of one KV group are one sequence of G·T queries, as in ForwardSequence: no KV head is copied.
        Tensor groupedQueries = q.reshape(batch * kvHeads, group * time, headDim);
        Tensor scores = bmm(groupedQueries, allKeys.reshape(batch * kvHeads, visible, headDim).transpose(1, 2))
            .view(batch, kvHeads, group, time, visible);
        Tensor probabilities = scores.mul_(scale).add_(additiveMask.unsqueeze(2), HeldScalars.One).softmax(-1);
        Tensor attended = bmm(probabilities.view(batch * kvHeads, group * time, visible),
            allValues.reshape(batch * kvHeads, visible, headDim));
        Tensor merged = attended.view(batch, heads, time, headDim).transpose(1, 2).reshape(batch, time, heads * headDim);
        if (merged.dtype != x.dtype) merged = merged.to(x.dtype);
        weights = keepWeights ? probabilities.view(batch, heads, time, visible).MoveToOuterDisposeScope() : null;
        keys = k.MoveToOuterDisposeScope();
        values = v.MoveToOuterDisposeScope();
        return output.forward(merged).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// softmax(q·kᵀ·scale + mask)·v with both products as batched GEMMs in the inputs' dtype and the softmax in fp32.
    /// bmm, not matmul: TorchSharp 0.107's matmul lets a native error abort the process instead of throwing.
    /// </summary>
    private Tensor AttendWithGemms(Tensor q, Tensor k, Tensor v, Tensor mask)
    {
        long batch = q.shape[0], rows = q.shape[2], keys = k.shape[2];
        Tensor scores = bmm(q.reshape(batch * kvHeads, rows, headDim), k.reshape(batch * kvHeads, keys, headDim).transpose(1, 2));
        Tensor weights = scores.to(ScalarType.Float32).view(batch, kvHeads, rows, keys).mul_(scale).add_(mask, HeldScalars.One).softmax(-1);
        Tensor attended = bmm(weights.to(q.dtype).view(batch * kvHeads, rows, keys), v.reshape(batch * kvHeads, keys, headDim));
        return attended.view(batch, kvHeads, rows, headDim);
    }

    /// <summary>
    /// Training's attention: libtorch's fused causal kernel (forward and backward without the T×T weights), over KV
    /// heads repeated per query group, which autograd needs as real tensors.
    /// </summary>
    private Tensor AttendCausalForTraining(Tensor q, Tensor k, Tensor v)
    {
        int group = heads / kvHeads;
        Tensor repeatedKeys = group == 1 ? k : k.repeat_interleave(group, 1);
        Tensor repeatedValues = group == 1 ? v : v.repeat_interleave(group, 1);
        return nn.functional.scaled_dot_product_attention(q, repeatedKeys, repeatedValues, is_casual: true);
    }

    /// <summary>Half of the batch's sequences attend on the partner thread.</summary>
    private static Tensor AttendInHalves(Tensor q, Tensor k, Tensor v, Tensor mask, PartnerThread split)
    {
        long batch = q.shape[0], half = batch / 2, rest = batch - half;
        // Views are made here, on the caller's thread, inside its dispose scope.
        Tensor q1 = q.narrow(0, 0, half), k1 = k.narrow(0, 0, half), v1 = v.narrow(0, 0, half), m1 = mask.narrow(0, 0, half);
        Tensor q2 = q.narrow(0, half, rest), k2 = k.narrow(0, half, rest), v2 = v.narrow(0, half, rest), m2 = mask.narrow(0, half, rest);
        (Tensor first, Tensor second) = split.Run(
            () => nn.functional.scaled_dot_product_attention(q1, k1, v1, attn_mask: m1),
            () => nn.functional.scaled_dot_product_attention(q2, k2, v2, attn_mask: m2));
        return cat([first, second], 0);
    }

    private (Tensor Q, Tensor K, Tensor V) Project(Tensor x, Tensor positions, int maxPosition, RotaryEmbedding rope)
    {
        long batch = x.shape[0], time = x.shape[1];
        Tensor fused = qkv.forward(x).view(batch, time, heads + 2 * kvHeads, headDim);
        Tensor rotated = rope.Apply(fused.narrow(2, 0, heads + kvHeads), positions, maxPosition);
        Tensor q = rotated.narrow(2, 0, heads).transpose(1, 2);
        Tensor k = rotated.narrow(2, heads, kvHeads).transpose(1, 2).contiguous();
        Tensor v = fused.narrow(2, heads + kvHeads, kvHeads).transpose(1, 2).to(ScalarType.Float32).contiguous();
        return (q, k, v);
    }
}
