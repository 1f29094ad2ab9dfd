using PdServe.Engine.Loading;
using PdServe.Engine.Tokenization;

namespace PdServe.TestSupport;

/// <summary>
/// A small GPT-2-style byte-level BPE tokenizer for tiny checkpoints: the 256 byte tokens, a few English merges,
/// then &lt;s&gt; and &lt;/s&gt;. <see cref="ConfigFor"/> sizes a model config to match it.
/// </summary>
public static class TinyTokenizer
{
    private static readonly (string Left, string Right)[] Merges = BuildMerges();

    public static int VocabSize => TokenizerJsonWriter.ByteAlphabet.Count + Merges.Length + 2;
    public static int BosTokenId => VocabSize - 2;
    public static int EosTokenId => VocabSize - 1;

    /// <summary>The config with its vocabulary and BOS/EOS ids set to this tokenizer's.</summary>
    public static ModelConfig ConfigFor(ModelConfig config) =>
        config with { VocabSize = VocabSize, BosTokenId = BosTokenId, EosTokenIds = [EosTokenId] };

    /// <summary>Writes tokenizer.json and tokenizer_config.json into a model directory.</summary>
    public static void Write(string directory)
    {
        var vocabulary = TokenizerJsonWriter.ByteAlphabet.Concat(Merges.Select(m => m.Left + m.Right)).ToList();
        TokenizerJsonWriter.Write(directory, vocabulary, Merges, new TokenizerJsonWriterOptions
        {
            SpecialTokens = ["<s>", "</s>"],
            BosToken = "<s>",
            EosToken = "</s>",
            AddBosToken = true,
        });
    }

    /// <summary>Writes a complete tiny model directory (weights, configs, tokenizer) and returns its config.</summary>
    public static ModelConfig WriteModel(string directory, ModelConfig config, int seed, IReadOnlyCollection<int>? poisonedTokens = null)
    {
        ModelConfig sized = ConfigFor(config);
        TinyCheckpoint.Write(directory, sized, seed, poisonedTokens: poisonedTokens);
        Write(directory);
        return sized;
    }

    private static (string, string)[] BuildMerges()
    {
        string space = TokenizerJsonWriter.ToByteLevel(" ");
        var merges = new List<(string, string)> { ("t", "h"), ("th", "e"), ("i", "n"), ("e", "r"), ("a", "n"), ("o", "n") };
        merges.AddRange("abcdefghijklmnopqrstuvwxyz".Select(c => (space, c.ToString())));
        return merges.ToArray();
    }
}
