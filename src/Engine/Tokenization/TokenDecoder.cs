using System.Text;

namespace PdServe.Engine.Tokenization;

/// <summary>
/// Turns token ids back into UTF-8 bytes, one token at a time, so that full decoding and streaming
/// share one code path. Covers the decoders our tokenizer families use: ByteLevel, and
/// SentencePiece-style Sequence[Replace("▁"," "), ByteFallback, Fuse, Strip] or Metaspace.
/// </summary>
internal sealed class TokenDecoder
{
    private readonly string?[] tokens;          // id -> token string
    private readonly bool[] isAdded;            // added tokens are emitted verbatim
    private readonly IReadOnlySet<int> special;
    private readonly bool byteLevel;
    private readonly bool byteFallback;
    private readonly IReadOnlyList<(string From, string To)> replacements;

    /// <summary>How many leading spaces to strip from the start of the decoded text (Strip/Metaspace decoders).</summary>
    public int StripLeadingSpaces { get; }

    public TokenDecoder(string?[] tokens, bool[] isAdded, IReadOnlySet<int> special, bool byteLevel,
        bool byteFallback, IReadOnlyList<(string From, string To)> replacements, int stripLeadingSpaces)
    {
        this.tokens = tokens; this.isAdded = isAdded; this.special = special; this.byteLevel = byteLevel;
        this.byteFallback = byteFallback; this.replacements = replacements; StripLeadingSpaces = stripLeadingSpaces;
    }

    public void AppendBytes(int id, bool skipSpecialTokens, List<byte> output)
    {
        if ((uint)id >= (uint)tokens.Length || tokens[id] is not string token) return; // unknown id: nothing
        if (skipSpecialTokens && special.Contains(id)) return;
        if (isAdded[id]) { output.AddRange(Encoding.UTF8.GetBytes(token)); return; }
        if (byteLevel) { ByteLevelMapping.Decode(token, output); return; }
        if (byteFallback && token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
        {
            output.Add(b);
            return;
        }
        foreach (var (from, to) in replacements) token = token.Replace(from, to, StringComparison.Ordinal);
        output.AddRange(Encoding.UTF8.GetBytes(token));
    }
}

/// <summary>
/// Incremental detokenizer for streaming generation: each <see cref="Push"/> returns the text that is
/// now final. Bytes of an incomplete UTF-8 sequence (a character split across byte-fallback
/// &lt;0xNN&gt; tokens or byte-level BPE tokens) are held back until the character is complete, so no
/// chunk ever contains half a character; the concatenation of all chunks plus <see cref="Flush"/>
/// equals <see cref="TextTokenizer.Decode"/> of the same ids.
/// </summary>
public sealed class StreamingDetokenizer
{
    private readonly TokenDecoder decoder;
    private readonly bool skipSpecialTokens;
    private readonly List<byte> pending = new();
    private int stripRemaining;

    internal StreamingDetokenizer(TokenDecoder decoder, bool skipSpecialTokens)
    {
        this.decoder = decoder;
        this.skipSpecialTokens = skipSpecialTokens;
        stripRemaining = decoder.StripLeadingSpaces;
    }

    /// <summary>Adds one generated token; returns the newly completed text (possibly empty).</summary>
    public string Push(int tokenId)
    {
        int before = pending.Count;
        decoder.AppendBytes(tokenId, skipSpecialTokens, pending);
        if (stripRemaining > 0 && pending.Count > before)
        {
            int i = 0;
            while (i < pending.Count && stripRemaining > 0 && pending[i] == (byte)' ') { i++; stripRemaining--; }
            if (i < pending.Count) stripRemaining = 0; // text started: stop stripping
            pending.RemoveRange(0, i);
        }
        int complete = CompletePrefixLength(pending);
        if (complete == 0) return string.Empty;
        var text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pending)[..complete]);
        pending.RemoveRange(0, complete);
        return text;
    }

    /// <summary>Returns whatever is still held back (an incomplete sequence decodes to U+FFFD).</summary>
    public string Flush()
    {
        if (pending.Count == 0) return string.Empty;
        var text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pending));
        pending.Clear();
        return text;
    }

    /// <summary>Length of the longest prefix that does not end inside an unfinished UTF-8 sequence.</summary>
    internal static int CompletePrefixLength(List<byte> bytes)
    {
        int n = bytes.Count;
        // Look back at most 3 bytes for the lead byte of the last sequence.
        for (int back = 1; back <= Math.Min(4, n); back++)
        {
            byte b = bytes[n - back];
            if ((b & 0xC0) == 0x80) continue; // continuation byte: keep looking
            int need = b >= 0xF0 && b <= 0xF7 ? 4 : b >= 0xE0 ? (b <= 0xEF ? 3 : 1) : b >= 0xC0 ? 2 : 1;
            return back < need ? n - back : n;
        }
        return n; // only stray continuation bytes: nothing to wait for
    }
}
