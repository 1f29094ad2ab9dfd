using PdServe.Benchmarking;
using PdServe.Engine;
using PdServe.Engine.Loading;
using PdServe.Engine.Model;

namespace LlamaCppPeer.Conversion;

/// <summary>
/// The model both engines run: a Hugging Face directory, or a named shape with the same random weights
/// <c>pdserve bench engine --shape</c> draws (seed 1), so a peer run and a PdServe run multiply the same numbers.
/// </summary>
public sealed class PeerModelSource
{
    /// <summary>The seed <c>pdserve bench engine --shape</c> gives its random weights.</summary>
    private const long ShapeSeed = 1;

    private PeerModelSource(string name, ModelConfig config, string? directory)
    {
        Name = name;
        Config = config;
        Directory = directory;
    }

    /// <summary>The directory or "shape NAME", as a report names the model.</summary>
    public string Name { get; }
    public ModelConfig Config { get; }
    private string? Directory { get; }

    public static PeerModelSource FromDirectory(string directory) =>
        new(directory, ModelDirectory.Open(directory).Config, directory);

    public static PeerModelSource FromShape(string shape) =>
        new($"shape {shape}", ModelShapes.Get(shape), null);

    /// <summary>Opens the weights for the duration of <paramref name="use"/>.</summary>
    public void WithWeights(Action<IWeightSource> use)
    {
        if (Directory is null)
        {
            use(new RandomWeightSource(Config, ShapeSeed));
            return;
        }
        using SafeTensorsCheckpoint checkpoint = ModelDirectory.Open(Directory).OpenWeights();
        use(checkpoint);
    }

    /// <summary>The model as PdServe loads it: through <see cref="LoadedModel"/> for a directory.</summary>
    public CausalLm LoadInPdServe(ModelLoadOptions options)
    {
        if (Directory is null) return CausalLm.Load(Config, new RandomWeightSource(Config, ShapeSeed), options);
        return LoadedModel.Load(Directory, options).Model;
    }
}
