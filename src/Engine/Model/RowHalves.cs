using PdServe.Engine.Runtime;
using static TorchSharp.torch;

namespace PdServe.Engine.Model;

/// <summary>
/// Views of the first and second half of a weight's rows (and its bias), made once so a decode step can compute
/// the two halves of a linear layer's output on two threads without building views on its hot path.
/// </summary>
internal sealed class RowHalves : IDisposable
{
    private readonly Tensor firstWeight;
    private readonly Tensor? firstBias;
    private readonly Tensor secondWeight;
    private readonly Tensor? secondBias;

    public RowHalves(Tensor weight, Tensor? bias)
    {
        long half = weight.shape[0] / 2, rest = weight.shape[0] - half;
        firstWeight = weight.narrow(0, 0, half).DetachFromDisposeScope();
        firstBias = bias?.narrow(0, 0, half).DetachFromDisposeScope();
        secondWeight = weight.narrow(0, half, rest).DetachFromDisposeScope();
        secondBias = bias?.narrow(0, half, rest).DetachFromDisposeScope();
    }

    /// <summary>The two halves of x·Wᵀ + b, the first computed here, the second on the partner.</summary>
    public (Tensor First, Tensor Second) Linear(Tensor input, PartnerThread split) =>
        split.Linear(input, firstWeight, firstBias, secondWeight, secondBias);

    /// <summary>x·Wᵀ + b computed in two halves on two threads.</summary>
    public Tensor LinearWhole(Tensor input, PartnerThread split)
    {
        (Tensor first, Tensor second) = Linear(input, split);
        return cat([first, second], -1);
    }

    public void Dispose()
    {
        firstWeight.Dispose();
        firstBias?.Dispose();
        secondWeight.Dispose();
        secondBias?.Dispose();
    }
}
