using PdServe.Engine.Cache;
using PdServe.Engine.Runtime;
using static TorchSharp.torch;

namespace PdServe.Engine.Model;

/// <summary>One pre-norm Llama decoder block: x + attention(norm(x)), then + mlp(norm(x)). The residual stream is fp32.</summary>
public sealed class DecoderBlock : nn.Module
{
    private readonly RmsNorm inputNorm;
    private readonly SelfAttention attention;
    private readonly RmsNorm postAttentionNorm;
    private readonly GatedMlp mlp;

    public DecoderBlock(int index, RmsNorm inputNorm, SelfAttention attention, RmsNorm postAttentionNorm, GatedMlp mlp)
        : base($"block{index}")
    {
        Index = index;
        this.inputNorm = inputNorm;
        this.attention = attention;
        this.postAttentionNorm = postAttentionNorm;
        this.mlp = mlp;
        RegisterComponents();
    }

    /// <summary>The block's index in the full, unpruned model.</summary>
    public int Index { get; }

    internal RmsNorm InputNorm => inputNorm;
    internal SelfAttention Attention => attention;
    internal RmsNorm PostAttentionNorm => postAttentionNorm;
    internal GatedMlp Mlp => mlp;

    /// <param name="residualDropout">Training only: the share of each sublayer's output dropped before it joins the residual stream.</param>
    /// <param name="prefix">The cached KV of the positions before <paramref name="hidden"/>'s (see <see cref="SelfAttention.ForwardSequence"/>).</param>
    public Tensor ForwardSequence(Tensor hidden, Tensor positions, int maxPosition, RotaryEmbedding rope,
        ScalarType computeDtype, CausalChunkedMask mask, out Tensor keys, out Tensor values, double residualDropout = 0,
        IReadOnlyList<KvSegment>? prefix = null)
    {
        using var scope = NewDisposeScope();
        Tensor attended = attention.ForwardSequence(inputNorm.forward(hidden).to(computeDtype), positions, maxPosition,
            rope, mask, out keys, out values, prefix);
        keys.MoveToOuterDisposeScope();
        values.MoveToOuterDisposeScope();
        if (residualDropout > 0) attended = nn.functional.dropout(attended, residualDropout, training: true);
        Tensor afterAttention = hidden.add(attended, HeldScalars.One); // fp32 + bf16 promotes to fp32 inside the add
        Tensor mlpOut = mlp.forward(postAttentionNorm.forward(afterAttention).to(computeDtype));
        if (residualDropout > 0) mlpOut = nn.functional.dropout(mlpOut, residualDropout, training: true);
        return afterAttention.add(mlpOut, HeldScalars.One).MoveToOuterDisposeScope();
    }

    /// <summary>The block over new positions that attend over earlier entries as well (see <see cref="SelfAttention.ForwardAfterPrefix"/>).</summary>
    public Tensor ForwardAfterPrefix(Tensor hidden, Tensor positions, int maxPosition, RotaryEmbedding rope, ScalarType computeDtype,
        BlockKv? prefix, Tensor additiveMask, bool keepWeights, out Tensor keys, out Tensor values, out Tensor? weights)
    {
        using var scope = NewDisposeScope();
        Tensor attended = attention.ForwardAfterPrefix(inputNorm.forward(hidden).to(computeDtype), positions, maxPosition, rope,
            prefix?.Keys, prefix?.Values, additiveMask, keepWeights, out keys, out values, out weights);
        keys.MoveToOuterDisposeScope();
        values.MoveToOuterDisposeScope();
        weights?.MoveToOuterDisposeScope();
        Tensor afterAttention = hidden.add(attended, HeldScalars.One);
        Tensor mlpOut = mlp.forward(postAttentionNorm.forward(afterAttention).to(computeDtype));
        return afterAttention.add(mlpOut, HeldScalars.One).MoveToOuterDisposeScope();
    }

    public Tensor ForwardDecode(Tensor hidden, Tensor rotation, ScalarType computeDtype, KvCache cache, Tensor additiveMask,
        PartnerThread? split)
    {
        using var scope = NewDisposeScope();
        Tensor attended = attention.ForwardDecode(inputNorm.forward(hidden).to(computeDtype), rotation, cache, Index,
            additiveMask, split);
        Tensor afterAttention = hidden.add(attended, HeldScalars.One); // fp32 + bf16 promotes to fp32 inside the add
        Tensor mlpOut = mlp.Forward(postAttentionNorm.forward(afterAttention).to(computeDtype), split);
        return afterAttention.add(mlpOut, HeldScalars.One).MoveToOuterDisposeScope();
    }
}
