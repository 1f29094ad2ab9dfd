using TorchSharp;

namespace PdServe.Engine.Loading;

/// <summary>
/// Tensors of <paramref name="overlay"/> (a healed stage's blocks) where it has them, the base checkpoint's for the rest:
/// a healed stage model is the base model with its kept blocks replaced.
/// </summary>
public sealed class OverlayWeightSource(IWeightSource overlay, IWeightSource baseWeights) : IWeightSource
{
    public bool Contains(string name) => overlay.Contains(name) || baseWeights.Contains(name);

    public torch.Tensor Load(string name, long[] expectedShape, torch.ScalarType dtype) =>
        overlay.Contains(name) ? overlay.Load(name, expectedShape, dtype) : baseWeights.Load(name, expectedShape, dtype);

    public torch.ScalarType StoredDtype(string name) =>
        overlay.Contains(name) ? overlay.StoredDtype(name) : baseWeights.StoredDtype(name);
}
