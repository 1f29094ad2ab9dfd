namespace PdServe.Engine.Tokenization;

/// <summary>An added token from tokenizer.json's "added_tokens" (or tokenizer_config.json).</summary>
internal sealed record AddedToken(int Id, string Content, bool Special, bool LStrip = false, bool RStrip = false);

/// <summary>
/// Finds added/special tokens in raw text before normalization and pre-tokenization, as Hugging Face
/// does (leftmost match, longest token on ties; lstrip/rstrip swallow neighbouring whitespace).
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly Dictionary<char, AddedToken[]> byFirstChar;

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens)
    {
        byFirstChar = tokens.Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    /// <summary>Yields (text, null) for ordinary segments and (null, token) for added tokens, in order.</summary>
    public IEnumerable<(string? Text, AddedToken? Token)> Split(string text)
    {
        if (byFirstChar.Count == 0) { if (text.Length > 0) yield return (text, null); yield break; }
        int segmentStart = 0, i = 0;
        while (i < text.Length)
        {
            AddedToken? found = null;
            if (byFirstChar.TryGetValue(text[i], out var candidates))
                foreach (var t in candidates)
                    if (string.CompareOrdinal(text, i, t.Content, 0, t.Content.Length) == 0) { found = t; break; }
            if (found is null) { i++; continue; }

            int matchStart = i, matchEnd = i + found.Content.Length;
            if (found.LStrip) while (matchStart > segmentStart && char.IsWhiteSpace(text[matchStart - 1])) matchStart--;
            if (found.RStrip) while (matchEnd < text.Length && char.IsWhiteSpace(text[matchEnd])) matchEnd++;
            if (matchStart > segmentStart) yield return (text[segmentStart..matchStart], null);
            yield return (null, found);
            segmentStart = i = matchEnd;
        }
        if (segmentStart < text.Length) yield return (text[segmentStart..], null);
    }
}
