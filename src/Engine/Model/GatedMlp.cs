using PdServe.Engine.Runtime;
using static TorchSharp.torch;

namespace PdServe.Engine.Model;

/// <summary>SwiGLU feed-forward: down(silu(gate(x)) · up(x)), with gate and up fused into one matrix product.</summary>
public sealed class GatedMlp : nn.Module<Tensor, Tensor>
{
    private readonly Projection gateUp;
    private readonly Projection down;
    private readonly long intermediate;

    public GatedMlp(Projection gateUp, Projection down) : base(nameof(GatedMlp))
    {
        this.gateUp = gateUp;
        this.down = down;
        intermediate = gateUp.OutFeatures / 2;
        RegisterComponents();
    }

    internal Projection GateUp => gateUp;
    internal Projection Down => down;

    /// <summary>The decode-step form: gate and up come back as the two halves of the split product.</summary>
    public Tensor Forward(Tensor x, PartnerThread? split)
    {
        if (split is null || x.dtype != gateUp.Weight.dtype) return forward(x);
        using var scope = NewDisposeScope();
        (Tensor gate, Tensor up) = gateUp.ForwardHalves(x, split);
        return down.Forward(nn.functional.silu(gate).mul_(up), split).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor fused = gateUp.forward(x);
        // Out-of-place products: the same code trains, and autograd must see the unmodified activations.
        Tensor activated = nn.functional.silu(fused.narrow(-1, 0, intermediate)) * fused.narrow(-1, intermediate, intermediate);
        return down.forward(activated).MoveToOuterDisposeScope();
    }
}
