using PdServe.Engine.Loading;
using PdServe.Engine.Planning;
using PdServe.TestSupport;

namespace PdServe.Nodes.Tests;

/// <summary>
/// A tiny model directory (weights, configs, tokenizer) in a temporary folder, and prune plans for it.
/// 4 blocks, 2 KV heads of 16 dimensions: one position of one layer is 2·2·16·4 = 256 bytes of float32 KV.
/// </summary>
public sealed class TestModel : IDisposable
{
    private readonly TempDirectory directory = new("pdserve-nodes");

    /// <param name="poisonedTokens">Token ids whose embedding rows are NaN: a prompt holding one leads to NaN logits.</param>
    public TestModel(int seed = 5, int[]? poisonedTokens = null)
    {
        Config = TinyTokenizer.WriteModel(directory.Combine("model"), TinyCheckpoint.LlamaGqa(), seed, poisonedTokens);
        Fingerprint = ModelFingerprint.Compute(Path);
    }

    public string Path => directory.Combine("model");
    public ModelConfig Config { get; }
    public string Fingerprint { get; }

    /// <summary>Writes a plan for this model and returns its path.</summary>
    public string WritePlan(string name, int[]? prefillSkip = null, int[]? decodeSkip = null, int[]? selectedLayers = null,
        int first = 0, int last = 0, string wireDtype = "float32")
    {
        var plan = new PrunePlan
        {
            ModelFingerprint = Fingerprint,
            NumBlocks = Config.NumLayers,
            PrefillSkip = prefillSkip ?? [],
            DecodeSkip = decodeSkip ?? [],
            Kv = new PrunePlan.KvSection { SelectedLayers = selectedLayers ?? [], First = first, Last = last, WireDtype = wireDtype },
        };
        string path = directory.Combine($"{name}.plan.json");
        plan.Save(path);
        return path;
    }

    public void Dispose() => directory.Dispose();
}
