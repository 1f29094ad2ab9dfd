using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using static TorchSharp.torch;

namespace PdServe.TestSupport;

/// <summary>Loads models from tiny checkpoints written to a temporary directory.</summary>
public static class TinyModels
{
    /// <summary>Writes a checkpoint for <paramref name="config"/> and loads it with fp32 prefill and decode.</summary>
    public static CausalLm Load(ModelConfig config, int seed = 7, IReadOnlySet<int>? skip = null,
        ScalarType prefillDtype = ScalarType.Float32)
    {
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, config, seed);
        return LoadFrom(directory.Path, skip, prefillDtype);
    }

    public static CausalLm LoadFrom(string directory, IReadOnlySet<int>? skip = null,
        ScalarType prefillDtype = ScalarType.Float32)
    {
        ModelDirectory model = ModelDirectory.Open(directory);
        using SafeTensorsCheckpoint weights = model.OpenWeights();
        return CausalLm.Load(model.Config, weights, new ModelLoadOptions
        {
            SkippedBlocks = skip ?? new HashSet<int>(),
            PrefillDtype = prefillDtype,
        });
    }

    /// <summary>Token ids in [3, vocab) from a fixed seed (0..2 are BOS/EOS-like specials in the tiny configs).</summary>
    public static int[] RandomTokens(int count, int vocab, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.Next(3, vocab)).ToArray();
    }

    /// <summary>Full-sequence logits [T, vocab] for one sequence.</summary>
    public static Tensor FullLogits(CausalLm model, IReadOnlyList<int> tokens,
        IReadOnlyDictionary<int, Tensor>? blockMasks = null)
    {
        using var noGrad = no_grad();
        using Tensor ids = tensor(tokens.Select(t => (long)t).ToArray()).unsqueeze(0);
        return model.Forward(ids, blockMasks: blockMasks)[0];
    }

    public static float MaxAbsDifference(Tensor a, Tensor b)
    {
        using var difference = (a - b).abs().max();
        return difference.item<float>();
    }
}
