namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// The <c>shared-prefix</c> dataset: one prefix of ordinary token ids, drawn first, then per request that prefix and a
/// suffix of its own, all from <paramref name="random"/>, sent as token ids so the server sees exactly these lengths.
/// </summary>
public static class SharedPrefixPrompts
{
    public static IReadOnlyList<BenchPrompt> Create(IReadOnlyList<int> ordinary, SharedPrefixShape shape, int maxTokens, int count, Random random)
    {
        if (ordinary.Count == 0) throw new ArgumentException("no token ids to draw from", nameof(ordinary));
        if (shape.PrefixTokens < 1 || shape.SuffixTokens < 1 || maxTokens < 1)
            throw new ArgumentOutOfRangeException(nameof(shape), shape, "prefix, suffix and max tokens >= 1");
        int[] prefix = RandomPrompts.Ids(ordinary, shape.PrefixTokens, random);
        var prompts = new List<BenchPrompt>(count);
        for (int i = 0; i < count; i++)
            prompts.Add(new BenchPrompt { TokenIds = [.. prefix, .. RandomPrompts.Ids(ordinary, shape.SuffixTokens, random)], MaxTokens = maxTokens });
        return prompts;
    }
}
