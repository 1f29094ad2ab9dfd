using PdServe.Engine;

namespace PdServe.Pruning.Corpus;

/// <summary>Documents encoded one after another, each as BOS, its tokens, EOS, and cut into equal windows.</summary>
public static class TokenStream
{
    /// <summary>The concatenated encoding of every document.</summary>
    public static IReadOnlyList<int> Encode(LoadedModel model, TextDocuments documents)
    {
        int bos = model.BosTokenId ?? throw new PruningInputException("the model has no BOS token to start each document with");
        int eos = model.Tokenizer.EosTokenId ?? model.Directory.EosTokenIds.FirstOrDefault(-1);
        if (eos < 0) throw new PruningInputException("the model has no EOS token to end each document with");
        var stream = new List<int>();
        foreach (string document in documents.Documents)
        {
            stream.Add(bos);
            stream.AddRange(model.Tokenizer.Encode(document, addSpecialTokens: false));
            stream.Add(eos);
        }
        return stream;
    }

    /// <summary>
    /// Consecutive, non-overlapping windows of <paramref name="length"/> tokens; a shorter final remainder is kept when
    /// it has at least <paramref name="minimumLength"/> tokens.
    /// </summary>
    public static IReadOnlyList<int[]> Windows(IReadOnlyList<int> stream, int length, int minimumLength)
    {
        int[] tokens = stream as int[] ?? stream.ToArray();
        var windows = new List<int[]>();
        for (int start = 0; start < tokens.Length; start += length)
        {
            int count = Math.Min(length, tokens.Length - start);
            if (count < minimumLength) break;
            windows.Add(tokens.AsSpan(start, count).ToArray());
        }
        return windows;
    }
}
