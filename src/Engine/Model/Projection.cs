using PdServe.Engine.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PdServe.Engine.Model;

/// <summary>
/// A linear layer y = x·Wᵀ + b. Its weight is held in the decode dtype and, when the prefill stage computes in
/// another dtype (bf16 GEMMs are several times faster than fp32 for prompt-sized matrices on CPU, while batch-1
/// bf16 GEMV is slower), also in that dtype. The input's dtype picks the copy, so one model serves both stages.
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
        long half = this.weight.shape[0] / 2, rest = this.weight.shape[0] - half;
        halves = new RowHalves(
            this.weight.narrow(0, 0, half).DetachFromDisposeScope(), this.bias?.narrow(0, 0, half).DetachFromDisposeScope(),
            this.weight.narrow(0, half, rest).DetachFromDisposeScope(), this.bias?.narrow(0, half, rest).DetachFromDisposeScope());
        RegisterComponents();
    }

    /// <summary>Views of the first and second half of the weight's rows, made once: a decode step is short of time.</summary>
    private sealed record RowHalves(Tensor FirstWeight, Tensor? FirstBias, Tensor SecondWeight, Tensor? SecondBias);

    private readonly RowHalves halves;

    /// <summary>
    /// The output for decode steps, whose rows are split across two threads when <paramref name="split"/> is given.
    /// </summary>
    public Tensor Forward(Tensor input, PartnerThread? split)
    {
        if (split is null || input.dtype != weight.dtype) return forward(input);
        (Tensor first, Tensor second) = ForwardHalves(input, split);
        return cat([first, second], -1);
    }

    /// <summary>The first and second half of the output features, computed on two threads.</summary>
    public (Tensor First, Tensor Second) ForwardHalves(Tensor input, PartnerThread split) =>
        split.Linear(input, halves.FirstWeight, halves.FirstBias, halves.SecondWeight, halves.SecondBias);

    public Tensor Weight => weight;
    public long OutFeatures => weight.shape[0];

    public override Tensor forward(Tensor input)
    {
        if (input.dtype == weight.dtype) return nn.functional.linear(input, weight, bias);
        if (alternateWeight is not null && input.dtype == alternateWeight.dtype)
            return nn.functional.linear(input, alternateWeight, alternateBias);
        using var converted = input.to(weight.dtype);
        return nn.functional.linear(converted, weight, bias);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            halves.FirstWeight.Dispose();
            halves.FirstBias?.Dispose();
            halves.SecondWeight.Dispose();
            halves.SecondBias?.Dispose();
            alternateWeight?.Dispose();
            alternateBias?.Dispose();
        }
        base.Dispose(disposing);
    }
}
