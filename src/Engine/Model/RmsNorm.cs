using PdServe.Engine.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PdServe.Engine.Model;

/// <summary>Root-mean-square layer norm, computed in float32 whatever the input dtype (bf16 would lose the mean).</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    // Held for the module's life: see HeldScalars.
    private readonly Scalar epsilon;

    public RmsNorm(Tensor weight, double epsilon) : base(nameof(RmsNorm))
    {
        this.weight = new Parameter(weight, requires_grad: false);
        this.epsilon = epsilon.ToScalar();
        RegisterComponents();
    }

    public Tensor Weight => weight;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor x = input.dtype == ScalarType.Float32 ? input : input.to(ScalarType.Float32);
        // x * x, not square(): square() is ~25x slower on this libtorch build.
        Tensor normalized = x * (x * x).mean([-1L], keepdim: true).add_(epsilon, HeldScalars.One).rsqrt_();
        return (normalized * weight).MoveToOuterDisposeScope();
    }
}
