using PdServe.Engine.Loading;
using static TorchSharp.torch;

namespace PdServe.Training.Trainer;

/// <summary>
/// Freshly initialized weights for training, served through <see cref="IWeightSource"/> so the model is built by
/// the same loader that serves checkpoints. GPT-2-style scheme: matrices and embeddings N(0, 0.02²), the two
/// projections that write into the residual stream (o_proj, down_proj) further scaled by 1/√(2·blocks) so the
/// residual's variance does not grow with depth; norms 1. Each tensor has its own generator seeded from
/// (seed, name), so the values do not depend on the order the loader asks for them.
/// </summary>
public sealed class InitialWeights(ModelConfig config, long seed) : IWeightSource
{
    private const string SourceName = "<initial weights>";
    private readonly Dictionary<string, long[]> shapes =
        LlamaTensorNames.Expected(config).ToDictionary(e => e.Name, e => e.Shape, StringComparer.Ordinal);

    public bool Contains(string name) => shapes.ContainsKey(name);

    public ScalarType StoredDtype(string name) => ScalarType.Float32;

    public Tensor Load(string name, long[] expectedShape, ScalarType dtype)
    {
        if (!shapes.TryGetValue(name, out long[]? shape)) throw new ModelLoadException(SourceName, "no such tensor for this configuration", name);
        if (!shape.SequenceEqual(expectedShape))
            throw new ModelLoadException(SourceName, $"shape [{string.Join(", ", shape)}] does not match expected [{string.Join(", ", expectedShape)}]", name);
        if (name.EndsWith("norm.weight", StringComparison.Ordinal)) return ones(shape, dtype);
        if (name.EndsWith(".bias", StringComparison.Ordinal)) return zeros(shape, dtype);
        using var generator = new TorchSharp.torch.Generator(SeedFor(name));
        bool residualWrite = name.EndsWith("o_proj.weight", StringComparison.Ordinal) || name.EndsWith("down_proj.weight", StringComparison.Ordinal);
        double std = residualWrite ? 0.02 / Math.Sqrt(2.0 * config.NumLayers) : 0.02;
        using var values = normal(0.0, std, shape, ScalarType.Float32, generator: generator);
        return values.to(dtype);
    }

    private ulong SeedFor(string name)
    {
        // FNV-1a over the name: stable across processes, unlike string.GetHashCode.
        ulong hash = 14695981039346656037UL ^ (ulong)seed;
        foreach (char c in name) hash = (hash ^ c) * 1099511628211UL;
        return hash;
    }
}
