using PdServe.Engine.Tokenization;

namespace PdServe.Training.Corpus;

/// <summary>
/// Joins consecutive documents (one Bible chapter each, from scripts/kjv-corpus.sh) into documents of up to a token
/// budget, a line break between them, so a model trained on long windows reads long stretches of running text, as
/// a long served prompt is, instead of a chapter-sized document after every few hundred tokens.
/// </summary>
public static class DocumentPacker
{
    /// <param name="maxTokens">The packed document's budget, its BOS and EOS included; a longer document stays whole.</param>
    public static IReadOnlyList<string> Pack(IReadOnlyList<string> documents, TextTokenizer tokenizer, int maxTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 3);
        int separatorTokens = tokenizer.Encode("\n", addSpecialTokens: false).Count;
        var packed = new List<string>();
        var current = new List<string>();
        int currentTokens = 2; // BOS and EOS
        foreach (string document in documents)
        {
            int tokens = tokenizer.Encode(document, addSpecialTokens: false).Count;
            if (current.Count > 0 && currentTokens + separatorTokens + tokens > maxTokens)
            {
                packed.Add(string.Join('\n', current));
                current.Clear();
                currentTokens = 2;
            }
            currentTokens += (current.Count > 0 ? separatorTokens : 0) + tokens;
            current.Add(document);
        }
        if (current.Count > 0) packed.Add(string.Join('\n', current));
        return packed;
    }
}
