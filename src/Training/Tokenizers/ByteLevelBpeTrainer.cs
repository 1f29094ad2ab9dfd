using System.Runtime.InteropServices;
using PdServe.Engine.Tokenization;

namespace PdServe.Training.Tokenizers;

/// <summary>
/// Learns a GPT-2-style byte-level BPE vocabulary from text: starting from the 256 byte symbols, it
/// repeatedly merges the most frequent adjacent pair of symbols within pre-tokenized words into a new token.
/// </summary>
public static class ByteLevelBpeTrainer
{
    /// <param name="documents">Training text; pieces never merge across documents (nor across pre-tokenized words).</param>
    /// <param name="options">Vocabulary size, special tokens and the stopping frequency.</param>
    /// <param name="progress">
    /// Receives the fraction of the wanted merges learned so far: 0 once the words are counted (most of the
    /// time on a large corpus goes there), then at every whole percent, and 1 at the end.
    /// </param>
    /// <exception cref="ArgumentException">A vocabulary size below the byte alphabet plus the special tokens, or other impossible options.</exception>
    /// <remarks>
    /// Deterministic: the same documents and options give the same vocabulary and merges. Every merge adds
    /// one new token, so token ids are 256 + merge rank, and the engine's lowest-rank-first encoding gives
    /// the segmentation training reached.
    /// </remarks>
    public static BpeTrainingResult Train(IEnumerable<string> documents, BpeTrainingOptions options, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        var specialTokens = options.SpecialTokens;
        var (symbols, frequencies) = CountWords(documents, new ByteLevelWords(specialTokens));
        var lengths = symbols.Select(s => s.Length).ToArray();

        var vocabulary = TokenizerJsonWriter.ByteAlphabet.ToList();
        var merges = new List<(string Left, string Right)>();

        var pairs = new PairStatistics();
        for (int w = 0; w < symbols.Length; w++)
            for (int i = 0; i + 1 < lengths[w]; i++)
                pairs.Change(PairStatistics.Pair(symbols[w][i], symbols[w][i + 1]), frequencies[w], w);
        pairs.Commit();

        int wantedTokens = options.VocabSize - specialTokens.Count;
        int wantedMerges = wantedTokens - vocabulary.Count;
        int reportedPercent = 0;
        progress?.Report(0);
        while (vocabulary.Count < wantedTokens && pairs.TryTakeMostFrequent(out long pair, out long count))
        {
            if (count < options.MinPairFrequency) break;
            int left = PairStatistics.Left(pair), right = PairStatistics.Right(pair);
            int newId = vocabulary.Count;
            // Never a duplicate: the pieces of a word between two token boundaries are segmented exactly as that
            // text alone would be, so text once merged into a token is that token wherever it is bounded.
            vocabulary.Add(vocabulary[left] + vocabulary[right]);
            merges.Add((vocabulary[left], vocabulary[right]));
            foreach (int w in pairs.WordsWith(pair))
                MergeInWord(symbols[w], ref lengths[w], frequencies[w], w, left, right, newId, pairs);
            pairs.Commit();

            int percent = (int)(100L * merges.Count / wantedMerges);
            if (percent > reportedPercent)
            {
                reportedPercent = percent;
                progress?.Report(percent / 100.0);
            }
        }
        if (reportedPercent < 100) progress?.Report(1);

        return new BpeTrainingResult(vocabulary, merges, options);
    }

    /// <summary>The distinct words of the corpus as byte symbols, in ordinal order, with their frequencies.</summary>
    private static (int[][] Symbols, long[] Frequencies) CountWords(IEnumerable<string> documents, ByteLevelWords splitter)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var pieces = new List<(string? Word, int SpecialIndex)>();
        foreach (var document in documents)
        {
            ArgumentNullException.ThrowIfNull(document, nameof(documents));
            pieces.Clear();
            splitter.Split(document, pieces);
            foreach (var (word, _) in pieces)
                if (word is not null)
                    CollectionsMarshal.GetValueRefOrAddDefault(counts, word, out _)++;
        }
        // Ordinal order makes word indexes, and so every later iteration over them, independent of hashing.
        var words = counts.Keys.Order(StringComparer.Ordinal).ToArray();
        return (words.Select(ByteLevelWords.Symbols).ToArray(), words.Select(w => counts[w]).ToArray());
    }

    /// <summary>Replaces every occurrence of (left, right) in one word by newId, left to right, and records the pair changes.</summary>
    private static void MergeInWord(int[] word, ref int length, long frequency, int wordIndex, int left, int right, int newId,
        PairStatistics pairs)
    {
        int n = length;
        int first = -1;
        for (int i = 0; i + 1 < n; i++)
            if (word[i] == left && word[i + 1] == right) { first = i; break; }
        if (first < 0) return; // the word lost this pair to an earlier merge

        for (int i = 0; i + 1 < n; i++) pairs.Change(PairStatistics.Pair(word[i], word[i + 1]), -frequency, wordIndex);
        int o = first;
        for (int i = first; i < n;)
        {
            if (i + 1 < n && word[i] == left && word[i + 1] == right) { word[o++] = newId; i += 2; }
            else word[o++] = word[i++];
        }
        length = o;
        for (int i = 0; i + 1 < o; i++) pairs.Change(PairStatistics.Pair(word[i], word[i + 1]), frequency, wordIndex);
    }
}
