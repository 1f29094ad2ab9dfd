using PdServe.Engine.Loading;

namespace PdServe.Benchmarking;

/// <summary>
/// Named model architectures, so throughput can be measured (with <see cref="RandomWeightSource"/>) without
/// downloading a checkpoint. Names are lower-case and matched case-insensitively.
/// </summary>
public static class ModelShapes
{
    private static readonly Dictionary<string, ModelConfig> Shapes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["smollm2-135m"] = new ModelConfig
        {
            Architecture = "LlamaForCausalLM",
            NumLayers = 30,
            HiddenSize = 576,
            NumHeads = 9,
            NumKvHeads = 3,
            HeadDim = 64,
            IntermediateSize = 1536,
            VocabSize = 49152,
            TieWordEmbeddings = true,
            RopeTheta = 100000.0,
            RmsNormEps = 1e-5,
            MaxPositionEmbeddings = 8192,
        },
    };

    /// <summary>The registered names, sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = Shapes.Keys.Order(StringComparer.Ordinal).ToArray();

    public static bool TryGet(string name, out ModelConfig config)
    {
        if (Shapes.TryGetValue(name, out var found))
        {
            config = found;
            return true;
        }
        config = null!;
        return false;
    }

    /// <summary>Returns the shape, or throws <see cref="ArgumentException"/> listing the known names.</summary>
    public static ModelConfig Get(string name) =>
        TryGet(name, out var config)
            ? config
            : throw new ArgumentException(
                $"unknown model shape '{name}' (known: {string.Join(", ", Names)})", nameof(name));
}
