namespace PdServe.Engine.Tokenization;

/// <summary>
/// Splits text as a tokenizer written by <see cref="TokenizerJsonWriter"/> does before its BPE model runs:
/// special tokens are cut out first, then every other segment goes through the same GPT-2 ByteLevel
/// pre-tokenizer object the loader uses. Training on these words is what makes the learned merges apply
/// to exactly the pieces the engine will later encode (the BPE trainer counts its words with it).
/// </summary>
public sealed class ByteLevelWords(IReadOnlyList<string> specialTokens)
{
    // The ids here are indexes into specialTokens; the caller maps them to vocabulary ids.
    private readonly AddedTokenSplitter splitter = new(specialTokens.Select((t, i) => new AddedToken(i, t, Special: true)));

    /// <summary>
    /// Appends the pieces of <paramref name="text"/> in order: (byte-level word, -1) for ordinary words and
    /// (null, index into the special tokens) where a special token appears in the text.
    /// </summary>
    public void Split(string text, List<(string? Word, int SpecialIndex)> output)
    {
        var words = new List<string>();
        int position = 0;
        foreach (var (segment, token) in splitter.Split(text))
        {
            if (token is not null) output.Add((null, token.Id));
            else
            {
                words.Clear();
                TokenizerJsonWriter.PreTokenizer.Split(segment!, position == 0, words);
                foreach (var w in words) output.Add((w, -1));
            }
            position++;
        }
    }

    /// <summary>The bytes a byte-level word stands for; they are also the word's initial symbol ids.</summary>
    public static int[] Symbols(string word)
    {
        var bytes = new List<byte>(word.Length);
        ByteLevelMapping.Decode(word, bytes);
        return bytes.Select(b => (int)b).ToArray();
    }
}
