using TorchSharp;

namespace PdServe.Engine.Loading;

/// <summary>Named weight tensors of a checkpoint, as the model asks for them while it builds itself.</summary>
public interface IWeightSource
{
    bool Contains(string name);

    /// <summary>
    /// Loads one tensor converted to <paramref name="dtype"/>. Throws <see cref="ModelLoadException"/> naming the
    /// file and tensor when it is missing or its shape differs from <paramref name="expectedShape"/>.
    /// </summary>
    torch.Tensor Load(string name, long[] expectedShape, torch.ScalarType dtype);

    /// <summary>The dtype the tensor is stored in (what loading it in that dtype would lose nothing of).</summary>
    torch.ScalarType StoredDtype(string name);
}
