using PdServe.Engine.Tokenization;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// The <c>random</c> dataset: prompts of random ordinary (non-special) token ids, with input and output lengths drawn
/// uniformly from [len·(1−r), len·(1+r)] as vLLM's random dataset does. Prompts are sent as token ids, so the server
/// sees exactly the drawn length. Seeded: the same options give the same prompts.
/// </summary>
public static class RandomPrompts
{
    public static IReadOnlyList<BenchPrompt> Create(TextTokenizer tokenizer, int inputLength, int outputLength, double rangeRatio, int count, int seed) =>
        Create(OrdinaryIds(tokenizer), inputLength, outputLength, rangeRatio, count, seed);

    /// <summary>Every id of the tokenizer's vocabulary but its special tokens.</summary>
    public static int[] OrdinaryIds(TextTokenizer tokenizer) =>
        Enumerable.Range(0, tokenizer.VocabSize).Where(id => !tokenizer.SpecialTokenIds.Contains(id)).ToArray();

    /// <summary>Prompts drawn from <paramref name="ordinary"/> (e.g. <see cref="ServerTokenPool"/>'s ids).</summary>
    public static IReadOnlyList<BenchPrompt> Create(IReadOnlyList<int> ordinary, int inputLength, int outputLength, double rangeRatio, int count, int seed) =>
        Create(ordinary, inputLength, outputLength, rangeRatio, count, new Random(seed));

    /// <summary>As above, drawing from <paramref name="random"/> (a stream that other parts of a dataset share).</summary>
    public static IReadOnlyList<BenchPrompt> Create(IReadOnlyList<int> ordinary, int inputLength, int outputLength, double rangeRatio, int count, Random random)
    {
        if (inputLength < 1 || outputLength < 1) throw new ArgumentOutOfRangeException(nameof(inputLength), "lengths must be >= 1");
        if (rangeRatio is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(rangeRatio), rangeRatio, "in [0, 1)");
        if (ordinary.Count == 0) throw new ArgumentException("no token ids to draw from", nameof(ordinary));
        var prompts = new List<BenchPrompt>(count);
        for (int i = 0; i < count; i++)
        {
            int input = Draw(random, inputLength, rangeRatio);
            int output = Draw(random, outputLength, rangeRatio);
            prompts.Add(new BenchPrompt { TokenIds = Ids(ordinary, input, random), MaxTokens = output });
        }
        return prompts;
    }

    /// <summary><paramref name="length"/> ids drawn uniformly from <paramref name="ordinary"/>.</summary>
    public static int[] Ids(IReadOnlyList<int> ordinary, int length, Random random)
    {
        var ids = new int[length];
        for (int i = 0; i < length; i++) ids[i] = ordinary[random.Next(ordinary.Count)];
        return ids;
    }

    private static int Draw(Random random, int length, double rangeRatio)
    {
        int low = Math.Max(1, (int)Math.Floor(length * (1 - rangeRatio)));
        int high = Math.Max(low, (int)Math.Ceiling(length * (1 + rangeRatio)));
        return random.Next(low, high + 1);
    }
}
