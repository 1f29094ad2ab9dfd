using PdServe.Engine.Tokenization;

namespace PdServe.Engine.Training;

/// <summary>
/// A corpus as one stream of token ids: every document is BOS, its tokens, EOS, so the model learns to start
/// after BOS (as a served prompt does) and to end a document.
/// </summary>
public sealed class TokenStream
{
    private TokenStream(int[] tokens, int documents)
    {
        Tokens = tokens;
        Documents = documents;
    }

    public int[] Tokens { get; }
    public int Documents { get; }
    public int Length => Tokens.Length;

    /// <summary>A stream of already encoded ids (tests, synthetic benchmarks).</summary>
    public static TokenStream FromTokens(int[] tokens, int documents = 1) => new(tokens, documents);

    public static TokenStream Encode(IReadOnlyList<string> documents, TextTokenizer tokenizer)
    {
        int bos = tokenizer.BosTokenId ?? throw new ArgumentException("the tokenizer has no BOS token; training needs one");
        int eos = tokenizer.EosTokenId ?? throw new ArgumentException("the tokenizer has no EOS token; training needs one");
        var tokens = new List<int>();
        foreach (string document in documents)
        {
            tokens.Add(bos);
            tokens.AddRange(tokenizer.Encode(document, addSpecialTokens: false));
            tokens.Add(eos);
        }
        return new TokenStream(tokens.ToArray(), documents.Count);
    }
}
