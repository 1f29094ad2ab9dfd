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
        RegisterComponents();
    }

    public Tensor Weight => weight;
    public Tensor? Bias => bias;
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
            alternateWeight?.Dispose();
            alternateBias?.Dispose();
        }
        base.Dispose(disposing);
    }
}
