using PdServe.Engine;
using PdServe.Engine.Tokenization;

namespace PdServe.Training.Corpus;

/// <summary>
/// Documents as one stream of token ids: every document is BOS, its tokens, EOS, so a model learns (and is scored)
/// starting after BOS, as a served prompt does, and ending a document.
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

    public static TokenStream Encode(IReadOnlyList<string> documents, TextTokenizer tokenizer, int bosTokenId, int eosTokenId)
    {
        var tokens = new List<int>();
        foreach (string document in documents)
        {
            tokens.Add(bosTokenId);
            tokens.AddRange(tokenizer.Encode(document, addSpecialTokens: false));
            tokens.Add(eosTokenId);
        }
        return new TokenStream(tokens.ToArray(), documents.Count);
    }

    /// <summary>With the tokenizer's own BOS and EOS.</summary>
    public static TokenStream Encode(IReadOnlyList<string> documents, TextTokenizer tokenizer) =>
        Encode(documents, tokenizer,
            tokenizer.BosTokenId ?? throw new ArgumentException("the tokenizer has no BOS token to start each document with"),
            tokenizer.EosTokenId ?? throw new ArgumentException("the tokenizer has no EOS token to end each document with"));

    /// <summary>With this model's BOS and EOS ids (a loaded model for evaluation or calibration).</summary>
    public static TokenStream Encode(IReadOnlyList<string> documents, LoadedModel model)
    {
        int bos = model.BosTokenId ?? throw new ArgumentException("the model has no BOS token to start each document with");
        int eos = model.Tokenizer.EosTokenId ?? model.Directory.EosTokenIds.FirstOrDefault(-1);
        if (eos < 0) throw new ArgumentException("the model has no EOS token to end each document with");
        return Encode(documents, model.Tokenizer, bos, eos);
    }

    /// <summary>
    /// Consecutive, non-overlapping windows of <paramref name="length"/> tokens; a shorter final remainder is kept when
    /// it has at least <paramref name="minimumLength"/> tokens.
    /// </summary>
    public IReadOnlyList<int[]> Windows(int length, int minimumLength)
    {
        var windows = new List<int[]>();
        for (int start = 0; start < Tokens.Length; start += length)
        {
            int count = Math.Min(length, Tokens.Length - start);
            if (count < minimumLength) break;
            windows.Add(Tokens.AsSpan(start, count).ToArray());
        }
        return windows;
    }
}
