using PdServe.Engine.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PdServe.Engine.Model;

/// <summary>
/// A linear layer y = x·Wᵀ + b. Its weight is held in the decode dtype and, when the prefill stage computes in
/// another dtype (bf16 GEMMs are several times faster than fp32 for prompt-sized matrices on CPU), also in that
/// dtype. The input's dtype picks the copy, so one model serves both stages.
/// </summary>
public sealed class Projection : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Tensor? alternateWeight;
    private readonly Tensor? alternateBias;

    public Projection(Tensor weight, Tensor? bias, ScalarType? alternateDtype) : base(nameof(Projection))
    {
        // Parameter takes over the tensor's handle, so the alternate copies are made first.
        if (alternateDtype is { } dtype && dtype != weight.dtype)
        {
            alternateWeight = weight.to(dtype).DetachFromDisposeScope();
            alternateBias = bias?.to(dtype).DetachFromDisposeScope();
        }
        this.weight = new Parameter(weight, requires_grad: false);
        this.bias = bias is null ? null : new Parameter(bias, requires_grad: false);
        halves = new RowHalves(this.weight, this.bias);
        RegisterComponents();
    }

    private readonly RowHalves halves;

    /// <summary>
    /// The output for decode steps, whose rows are split across two threads when <paramref name="split"/> is given.
    /// </summary>
    public Tensor Forward(Tensor input, PartnerThread? split)
    {
        return split is null || input.dtype != weight.dtype ? forward(input) : halves.LinearWhole(input, split);
    }

    /// <summary>The first and second half of the output features, computed on two threads.</summary>
    public (Tensor First, Tensor Second) ForwardHalves(Tensor input, PartnerThread split) => halves.Linear(input, split);

    public Tensor Weight => weight;
    public Tensor? Bias => bias;
    public long OutFeatures => weight.shape[0];

    public override Tensor forward(Tensor input)
    {
        if (input.dtype == weight.dtype) return nn.functional.linear(input, weight, bias);
        if (alternateWeight is not null && input.dtype == alternateWeight.dtype)
            return nn.functional.linear(input, alternateWeight, alternateBias);
        // Training keeps float32 master weights and computes in the input's dtype: the cast is part of the graph,
        // so gradients reach the float32 weights (autocast by hand; TorchSharp has none).
        if (weight.requires_grad)
            return nn.functional.linear(input, weight.to(input.dtype), bias?.to(input.dtype));
        using var converted = input.to(weight.dtype);
        return nn.functional.linear(converted, weight, bias);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            halves.Dispose();
            alternateWeight?.Dispose();
            alternateBias?.Dispose();
        }
        base.Dispose(disposing);
    }
}
