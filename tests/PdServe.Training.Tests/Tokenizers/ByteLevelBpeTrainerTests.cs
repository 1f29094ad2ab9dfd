using System.Text;
using System.Text.Json;
using PdServe.Engine.Tokenization;
using PdServe.TestSupport;
using PdServe.Training.Tokenizers;

namespace PdServe.Training.Tests.Tokenizers;

public sealed class ByteLevelBpeTrainerTests
{
    private const int A = 'a', B = 'b', Space = ' '; // byte symbols have their byte's id

    [Fact]
    public void HandWorkedCorpus_LearnsTheMostFrequentPairsFirst_AndBreaksTiesBySmallerIds()
    {
        // Words "aaab", " aaab", " ab": (a,a) occurs 4 times, then (a,b) 3, then (aa,ab) 2; after that
        // (Ġ,ab) and (Ġ,aaab) occur once each and the tie goes to the smaller right id (ab = 257 < aaab = 258).
        string[] corpus = ["aaab aaab ab"];
        var result = ByteLevelBpeTrainer.Train(corpus, new BpeTrainingOptions { MinPairFrequency = 1 });

        Assert.Equal([("a", "a"), ("a", "b"), ("aa", "ab"), ("Ġ", "ab"), ("Ġ", "aaab")], result.Merges);
        Assert.Equal(["aa", "ab", "aaab", "Ġab", "Ġaaab"], result.Vocabulary.Skip(256));
        // The corpus runs out of pairs long before the default 4096: 256 bytes + 5 merges + BOS + EOS.
        Assert.Equal(263, result.VocabSize);
        // BOS is 261; " aab" is Ġ + aa + b, as (a,b) came after (a,a) and "Ġaa" was never merged.
        Assert.Equal([261, 258, 259, Space, 256, B], result.Encode("aaab ab aab"));
        Assert.Equal([256, A, 260], result.Encode("aaa aaab", addSpecialTokens: false));

        var frequentOnly = ByteLevelBpeTrainer.Train(corpus, new BpeTrainingOptions()); // MinPairFrequency 2
        Assert.Equal([("a", "a"), ("a", "b"), ("aa", "ab")], frequentOnly.Merges);
        Assert.Equal(261, frequentOnly.VocabSize);
    }

    [Fact]
    public void Training_IsDeterministic_AndIndependentOfDocumentOrder()
    {
        var options = new BpeTrainingOptions { VocabSize = 420 };
        var first = ByteLevelBpeTrainer.Train(Corpus(seed: 1, documents: 300), options);
        var second = ByteLevelBpeTrainer.Train(Corpus(seed: 1, documents: 300), options);
        var reversed = ByteLevelBpeTrainer.Train(Corpus(seed: 1, documents: 300).AsEnumerable().Reverse(), options);

        Assert.Equal(418, first.Vocabulary.Count);
        Assert.Equal(162, first.Merges.Count);
        Assert.Equal(first.Vocabulary, second.Vocabulary);
        Assert.Equal(first.Merges, second.Merges);
        Assert.Equal(first.Vocabulary, reversed.Vocabulary);
        Assert.Equal(first.Merges, reversed.Merges);
        for (int i = 0; i < first.Merges.Count; i++)
            Assert.Equal(first.Merges[i].Left + first.Merges[i].Right, first.Vocabulary[256 + i]);
        Assert.Equal(first.Vocabulary.Count, first.Vocabulary.Distinct().Count());
    }

    [Fact]
    public void Merges_EqualThoseOfABruteForceTrainerThatRecountsEveryPairEachStep()
    {
        var corpus = Corpus(seed: 8, documents: 300);
        var result = ByteLevelBpeTrainer.Train(corpus, new BpeTrainingOptions { VocabSize = 440 });
        var expected = BruteForceMerges(corpus, merges: 182, minPairFrequency: 2);
        Assert.Equal(182, expected.Count);
        Assert.Equal(expected, result.Merges);
    }

    /// <summary>
    /// The textbook algorithm, slowly: count every adjacent pair of every word, merge the most frequent
    /// (smaller left id, then smaller right id, on ties) everywhere, repeat.
    /// </summary>
    private static List<(string, string)> BruteForceMerges(IEnumerable<string> documents, int merges, int minPairFrequency)
    {
        var wordCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        var pieces = new List<(string? Word, int SpecialIndex)>();
        var splitter = new ByteLevelWords([]);
        foreach (var document in documents)
        {
            pieces.Clear();
            splitter.Split(document, pieces);
            foreach (var (word, _) in pieces) wordCounts[word!] = wordCounts.GetValueOrDefault(word!) + 1;
        }
        var words = wordCounts.Select(kv => (Symbols: ByteLevelWords.Symbols(kv.Key).ToList(), Count: kv.Value)).ToList();
        var vocabulary = TokenizerJsonWriter.ByteAlphabet.ToList();
        var learned = new List<(string, string)>();
        while (learned.Count < merges)
        {
            var pairCounts = new Dictionary<(int, int), int>();
            foreach (var (symbols, count) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    pairCounts[(symbols[i], symbols[i + 1])] = pairCounts.GetValueOrDefault((symbols[i], symbols[i + 1])) + count;
            if (pairCounts.Count == 0) break;
            var best = pairCounts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.Item1).ThenBy(kv => kv.Key.Item2).First();
            if (best.Value < minPairFrequency) break;
            var (left, right) = best.Key;
            learned.Add((vocabulary[left], vocabulary[right]));
            vocabulary.Add(vocabulary[left] + vocabulary[right]);
            foreach (var (symbols, _) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    if (symbols[i] == left && symbols[i + 1] == right)
                    {
                        symbols[i] = vocabulary.Count - 1;
                        symbols.RemoveAt(i + 1);
                    }
        }
        return learned;
    }

    [Theory]
    [InlineData(258, 256)] // just the byte alphabet and the two special tokens
    [InlineData(300, 298)]
    [InlineData(440, 438)] // this corpus runs out of pairs that occur twice a little above 460
    public void RequestedVocabularySize_IsMetExactly_WhenTheCorpusAllowsIt(int vocabSize, int learned)
    {
        var result = ByteLevelBpeTrainer.Train(Corpus(seed: 2, documents: 300), new BpeTrainingOptions { VocabSize = vocabSize });
        Assert.Equal(vocabSize, result.VocabSize);
        Assert.Equal(learned, result.Vocabulary.Count);
        Assert.Equal(learned - 256, result.Merges.Count);
        Assert.Equal(TokenizerJsonWriter.ByteAlphabet, result.Vocabulary.Take(256));

        using var dir = new TempDirectory("pdserve-bpe");
        result.WriteTokenizer(dir.Path);
        Assert.Equal(vocabSize, TextTokenizer.Load(dir.Path).VocabSize);
    }

    [Theory]
    [InlineData(257, "<|bos|>", 258)]
    [InlineData(0, "<|bos|>", 258)]
    [InlineData(256, null, 257)] // EOS only
    public void VocabularySize_BelowBytesPlusSpecialTokens_IsRejected(int vocabSize, string? bos, int smallest)
    {
        var options = new BpeTrainingOptions { VocabSize = vocabSize, BosToken = bos, AddBosToken = bos is not null };
        var e = Assert.Throws<ArgumentException>(() => ByteLevelBpeTrainer.Train(["some text"], options));
        Assert.Contains($"VocabSize {vocabSize} is too small", e.Message);
        Assert.Contains($"at least {smallest}", e.Message);
        Assert.Equal(smallest, ByteLevelBpeTrainer.Train(["some text"], options with { VocabSize = smallest }).VocabSize);
    }

    [Fact]
    public void AddBosWithoutBosToken_AndZeroMinimumFrequency_AreRejected()
    {
        Assert.Throws<ArgumentException>(() => ByteLevelBpeTrainer.Train(["x"], new BpeTrainingOptions { BosToken = null }));
        var e = Assert.Throws<ArgumentException>(() => ByteLevelBpeTrainer.Train(["x"], new BpeTrainingOptions { MinPairFrequency = 0 }));
        Assert.Contains("MinPairFrequency", e.Message);
    }

    [Fact]
    public void WrittenTokenizer_HasSpecialTokensLast_PrependsBos_AndEncodesHeldOutTextAsTrainingDid()
    {
        var result = ByteLevelBpeTrainer.Train(Corpus(seed: 3, documents: 400), new BpeTrainingOptions { VocabSize = 440 });
        using var dir = new TempDirectory("pdserve-bpe");
        result.WriteTokenizer(dir.Path);
        var tokenizer = TextTokenizer.Load(dir.Path);

        Assert.Equal(440, tokenizer.VocabSize);
        Assert.Equal(438, tokenizer.BosTokenId);
        Assert.Equal(439, tokenizer.EosTokenId);
        Assert.Equal(438, result.BosTokenId);
        Assert.Equal(439, result.EosTokenId);
        Assert.Equal(new HashSet<int> { 438, 439 }, tokenizer.SpecialTokenIds.ToHashSet());
        using (var config = JsonDocument.Parse(File.ReadAllText(dir.Combine("tokenizer_config.json"))))
        {
            Assert.True(config.RootElement.GetProperty("add_bos_token").GetBoolean());
            Assert.Equal("<|bos|>", config.RootElement.GetProperty("bos_token").GetString());
            Assert.Equal("<|endoftext|>", config.RootElement.GetProperty("eos_token").GetString());
        }

        var heldOut = string.Join("\n\n", Corpus(seed: 4, documents: 40)) + "\nZebulun's xylophone, 1611!  <|endoftext|>";
        var ids = tokenizer.Encode(heldOut);
        Assert.Equal(result.Encode(heldOut), ids);
        Assert.Equal(438, ids[0]);
        Assert.Equal(439, ids[^1]);
        Assert.Equal(1, ids.Count(id => id == 438));
        // The learned merges compress: the held-out text takes well under one token per byte.
        Assert.InRange(ids.Count, 1, Encoding.UTF8.GetByteCount(heldOut) / 2);
        // A frequent word with its leading space is one token.
        Assert.Equal([result.Vocabulary.ToList().IndexOf("Ġshall")], tokenizer.Encode(" shall", addSpecialTokens: false));

        var noBos = ByteLevelBpeTrainer.Train(Corpus(seed: 3, documents: 400),
            new BpeTrainingOptions { VocabSize = 440, AddBosToken = false });
        noBos.WriteTokenizer(dir.Path);
        var withoutBos = TextTokenizer.Load(dir.Path);
        Assert.Equal(noBos.Encode(heldOut), withoutBos.Encode(heldOut));
        Assert.Equal(ids.Skip(1), withoutBos.Encode(heldOut));
    }

    [Fact]
    public void WrittenTokenizer_RoundTripsArbitraryUtf8_AndAgreesWithTheTrainer()
    {
        var result = ByteLevelBpeTrainer.Train(Corpus(seed: 5, documents: 300), new BpeTrainingOptions { VocabSize = 440 });
        using var dir = new TempDirectory("pdserve-bpe");
        result.WriteTokenizer(dir.Path);
        var tokenizer = TextTokenizer.Load(dir.Path);
        // The corpus repeats its CJK, emoji and accented words, so some merged tokens span multi-byte characters.
        Assert.Contains(TokenizerJsonWriter.ToByteLevel(" 日本語"), result.Vocabulary);

        var texts = new List<string>
        {
            "", " ", "\n", "  two  spaces   and three\n\n\nnewlines\t\ttabs \r\n",
            "emoji 😀👍🏽🇫🇷 👨‍👩‍👧 family", "日本語のテキスト 中文 한국어", "e\u0301 a\u0300\u0316 combining marks",
            "Привет, мир! Ελληνικά", "𝐀𝐁𝐂 astral letters", "'s 're I'm it's don't", "1611 3.14159 000",
            "<|endoftext|> in the middle <|bos|> too",
        };
        var random = new Random(42);
        for (int i = 0; i < 200; i++) texts.Add(RandomText(random, random.Next(1, 40)));

        int tokens = 0;
        foreach (var text in texts)
        {
            var ids = tokenizer.Encode(text);
            Assert.Equal(result.Encode(text), ids);
            Assert.Equal(text, tokenizer.Decode(ids, skipSpecialTokens: false)[("<|bos|>".Length)..]);
            tokens += ids.Count;
        }
        Assert.Equal(212, texts.Count);
        Assert.True(tokens > texts.Count, $"only {tokens} tokens");
    }

    [Fact]
    public void SpecialTokensInTheCorpus_AreNotLearned()
    {
        var corpus = Corpus(seed: 6, documents: 200).Select(d => d + "<|endoftext|>").ToList();
        var result = ByteLevelBpeTrainer.Train(corpus, new BpeTrainingOptions { VocabSize = 440 });
        Assert.Equal(438, result.Vocabulary.Count);
        Assert.DoesNotContain(result.Vocabulary, t => t.Contains("endof", StringComparison.Ordinal) || t.Contains("<|", StringComparison.Ordinal));
    }

    [Fact]
    public void Progress_RisesFromZeroToOne()
    {
        var progress = new RecordingProgress();
        ByteLevelBpeTrainer.Train(Corpus(seed: 7, documents: 200), new BpeTrainingOptions { VocabSize = 356 }, progress);
        Assert.Equal(0, progress.Values[0]);
        Assert.Equal(1, progress.Values[^1]);
        Assert.Equal(99, progress.Values.Count); // 0, then after each of the 98 merges (each one is over a percent)
        Assert.Equal(progress.Values.Order(), progress.Values);
    }

    private sealed class RecordingProgress : IProgress<double>
    {
        public List<double> Values { get; } = [];
        public void Report(double value) => Values.Add(value);
    }

    private static readonly string[] Words =
    [
        "the", "and", "of", "light", "water", "earth", "said", "unto", "them", "king", "house", "people", "day", "night",
        "went", "came", "shall", "there", "was", "were", "land", "city", "children", "gave", "upon", "heaven", "brought",
        "日本語", "中文", "café", "naïve", "Привет", "😀", "👍🏽", "e\u0301te", "1611", "12", "'s", "'ll",
    ];

    private static readonly string[] Punctuation = [",", ".", ";", ":", "!", "?", " -", ""];

    /// <summary>Seeded pseudo-text: sentences of the words above, one to six lines per document.</summary>
    private static List<string> Corpus(int seed, int documents)
    {
        var random = new Random(seed);
        var result = new List<string>(documents);
        var document = new StringBuilder();
        for (int d = 0; d < documents; d++)
        {
            document.Clear();
            int lines = random.Next(1, 7);
            for (int line = 0; line < lines; line++)
            {
                if (line > 0) document.Append('\n');
                int words = random.Next(3, 16);
                for (int w = 0; w < words; w++)
                {
                    var word = Words[random.Next(Words.Length)];
                    if (w == 0) word = char.ToUpperInvariant(word[0]) + word[1..];
                    else document.Append(random.Next(10) == 0 ? "  " : " ");
                    document.Append(word).Append(random.Next(5) == 0 ? Punctuation[random.Next(Punctuation.Length)] : "");
                }
                document.Append('.');
            }
            result.Add(document.ToString());
        }
        return result;
    }

    /// <summary>Random Unicode scalar values from ASCII to the astral planes (never lone surrogates).</summary>
    private static string RandomText(Random random, int length)
    {
        var text = new StringBuilder();
        for (int i = 0; i < length; i++)
        {
            int value = random.Next(6) switch
            {
                0 => random.Next(0x00, 0x80),
                1 => random.Next(0x80, 0x800),
                2 => random.Next(0x800, 0xD800),
                3 => random.Next(0xE000, 0x10000),
                4 => random.Next(0x10000, 0x110000),
                _ => " \n\t "[random.Next(4)],
            };
            text.Append(new Rune(value).ToString());
        }
        return text.ToString();
    }
}
