using PdServe.Engine.Cache;
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
    private readonly double scale;

    public SelfAttention(Projection qkv, Projection output, int heads, int kvHeads, int headDim) : base(nameof(SelfAttention))
    {
        this.qkv = qkv;
        this.output = output;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        scale = 1.0 / Math.Sqrt(headDim);
        RegisterComponents();
    }

    public Projection Qkv => qkv;
    public Projection Output => output;

    /// <summary>
    /// Attention over a whole sequence with no earlier cache. <paramref name="x"/> is the normed input
    /// [B, T, hidden] in the compute dtype. Causal unless <paramref name="additiveMask"/> [B|1, 1, T, T] is given.
    /// Returns the block's attention output in the compute dtype, and this block's keys and values
    /// [B, kvHeads, T, headDim] in float32.
    /// </summary>
    public Tensor ForwardSequence(Tensor x, Tensor positions, int maxPosition, RotaryEmbedding rope,
        Tensor? additiveMask, out Tensor keys, out Tensor values)
    {
        using var scope = NewDisposeScope();
        (Tensor q, Tensor k, Tensor v) = Project(x, positions, maxPosition, rope);
        int group = heads / kvHeads;
        Tensor expandedK = group == 1 ? k : k.repeat_interleave(group, dim: 1);
        Tensor expandedV = group == 1 ? v : v.repeat_interleave(group, dim: 1);
        // The causal flag is only right because q and k cover the same positions here.
        Tensor attended = additiveMask is null
            ? nn.functional.scaled_dot_product_attention(q, expandedK, expandedV, is_casual: true)
            : nn.functional.scaled_dot_product_attention(q, expandedK, expandedV, attn_mask: additiveMask);
        long batch = x.shape[0], time = x.shape[1];
        Tensor merged = attended.transpose(1, 2).reshape(batch, time, heads * headDim).to(x.dtype);
        keys = k.MoveToOuterDisposeScope();
        values = v.MoveToOuterDisposeScope();
        return output.forward(merged).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One decode step for the sequences in cache slots 0..B-1: appends their new key/value to
    /// <paramref name="cache"/> and attends over each slot's stored entries. <paramref name="additiveMask"/>
    /// [B, 1, 1, L] (L the longest slot after the append) hides the entries beyond each slot's length.
    /// </summary>
    public Tensor ForwardDecode(Tensor x, Tensor positions, int maxPosition, RotaryEmbedding rope, KvCache cache,
        int block, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        (Tensor q, Tensor k, Tensor v) = Project(x, positions, maxPosition, rope);
        long batch = x.shape[0];
        cache.AppendToFirstSlots(block, k.squeeze(2), v.squeeze(2));
        (Tensor cachedK, Tensor cachedV, _) = cache.View(block, (int)batch);
        // Fold the query heads of one KV group into the "query length" axis: no KV head is copied.
        Tensor groupedQ = q.reshape(batch, kvHeads, heads / kvHeads, headDim);
        Tensor scores = matmul(groupedQ, cachedK.transpose(-1, -2)).mul_(scale).add_(additiveMask);
        Tensor attended = matmul(scores.softmax(-1), cachedV);
        Tensor merged = attended.reshape(batch, 1, heads * headDim).to(x.dtype);
        return output.forward(merged).MoveToOuterDisposeScope();
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
