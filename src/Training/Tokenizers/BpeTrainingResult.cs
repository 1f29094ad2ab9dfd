using PdServe.Engine.Tokenization;

namespace PdServe.Training.Tokenizers;

/// <summary>A trained byte-level BPE tokenizer: vocabulary, merges and special tokens, ready to be written.</summary>
public sealed class BpeTrainingResult
{
    private readonly BpeTrainingOptions options;
    private readonly ByteLevelWords splitter;
    private readonly Dictionary<long, (int Rank, int NewId)> mergeByPair = new();

    internal BpeTrainingResult(IReadOnlyList<string> vocabulary, IReadOnlyList<(string Left, string Right)> merges,
        BpeTrainingOptions options)
    {
        Vocabulary = vocabulary;
        Merges = merges;
        this.options = options;
        SpecialTokens = options.SpecialTokens;
        splitter = new ByteLevelWords(SpecialTokens);

        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Count; i++) ids[vocabulary[i]] = i;
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (l, r) = merges[rank];
            mergeByPair[PairStatistics.Pair(ids[l], ids[r])] = (rank, ids[l + r]);
        }
    }

    /// <summary>Byte-level tokens in id order: <see cref="TokenizerJsonWriter.ByteAlphabet"/>, then one token per merge.</summary>
    public IReadOnlyList<string> Vocabulary { get; }

    /// <summary>Merges in priority (learning) order.</summary>
    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    /// <summary>Special tokens; the i-th gets id <c>Vocabulary.Count + i</c>.</summary>
    public IReadOnlyList<string> SpecialTokens { get; }

    /// <summary>All ids: the learned vocabulary plus the special tokens.</summary>
    public int VocabSize => Vocabulary.Count + SpecialTokens.Count;

    public int? BosTokenId => IdOfSpecial(options.BosToken);
    public int? EosTokenId => IdOfSpecial(options.EosToken);

    /// <summary>The settings <see cref="WriteTokenizer"/> hands to <see cref="TokenizerJsonWriter.Write"/>.</summary>
    public TokenizerJsonWriterOptions WriterOptions => new()
    {
        SpecialTokens = SpecialTokens,
        BosToken = options.BosToken,
        EosToken = options.EosToken,
        AddBosToken = options.AddBosToken,
    };

    /// <summary>Writes tokenizer.json and tokenizer_config.json into <paramref name="modelDirectory"/> (created if missing).</summary>
    public void WriteTokenizer(string modelDirectory) =>
        TokenizerJsonWriter.Write(modelDirectory, Vocabulary, Merges, WriterOptions);

    /// <summary>
    /// Encodes text the way training segmented it, as a reference for the written tokenizer: each merge
    /// in learning order replaces all its occurrences in a word, left to right. Slow; not for serving.
    /// </summary>
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        if (addSpecialTokens && options.AddBosToken && BosTokenId is int bos) ids.Add(bos);
        var pieces = new List<(string? Word, int SpecialIndex)>();
        splitter.Split(text, pieces);
        foreach (var (word, special) in pieces)
        {
            if (word is null) ids.Add(Vocabulary.Count + special);
            else ids.AddRange(EncodeWord(ByteLevelWords.Symbols(word)));
        }
        return ids;
    }

    private List<int> EncodeWord(int[] symbols)
    {
        var word = symbols.ToList();
        while (true)
        {
            // The earliest-learned merge present in the word goes next.
            (int Rank, int NewId) best = (int.MaxValue, -1);
            int bestLeft = -1, bestRight = -1;
            for (int i = 0; i + 1 < word.Count; i++)
                if (mergeByPair.TryGetValue(PairStatistics.Pair(word[i], word[i + 1]), out var m) && m.Rank < best.Rank)
                    (best, bestLeft, bestRight) = (m, word[i], word[i + 1]);
            if (best.NewId < 0) return word;

            var merged = new List<int>(word.Count);
            for (int i = 0; i < word.Count;)
            {
                if (i + 1 < word.Count && word[i] == bestLeft && word[i + 1] == bestRight) { merged.Add(best.NewId); i += 2; }
                else merged.Add(word[i++]);
            }
            word = merged;
        }
    }

    private int? IdOfSpecial(string? token)
    {
        if (token is null) return null;
        for (int i = 0; i < SpecialTokens.Count; i++)
            if (SpecialTokens[i] == token) return Vocabulary.Count + i;
        return null;
    }
}
