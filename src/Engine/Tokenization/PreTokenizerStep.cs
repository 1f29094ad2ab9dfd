using System.Globalization;
using System.Text.RegularExpressions;

namespace PdServe.Engine.Tokenization;

/// <summary>
/// A tokenizer.json "pre_tokenizer": splits each piece of a segment into smaller pieces (words) that
/// the BPE model encodes independently. Implemented directly over System.Text.RegularExpressions
/// because Hugging Face's Split behaviours (Isolated, Removed, Merged*, invert) and ByteLevel's
/// per-piece prefix space and byte mapping have no counterpart in Microsoft.ML.Tokenizers' pre-tokenizers,
/// which only return regex matches.
/// </summary>
internal abstract class PreTokenizerStep
{
    /// <param name="piece">The piece to split.</param>
    /// <param name="isFirst">True for the piece that starts the input text (Metaspace's prepend_scheme "first").</param>
    /// <param name="output">Receives the sub-pieces.</param>
    public abstract void Split(string piece, bool isFirst, List<string> output);

    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    public sealed class Sequence(IReadOnlyList<PreTokenizerStep> steps) : PreTokenizerStep
    {
        public override void Split(string piece, bool isFirst, List<string> output)
        {
            var current = new List<string> { piece };
            var next = new List<string>();
            foreach (var step in steps)
            {
                next.Clear();
                for (int i = 0; i < current.Count; i++) step.Split(current[i], isFirst && i == 0, next);
                (current, next) = (next, current);
            }
            output.AddRange(current);
        }
    }

    public enum Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

    /// <summary>Hugging Face's Split pre-tokenizer (also ByteLevel's use_regex step, as Isolated).</summary>
    public sealed class RegexSplit(Regex regex, Behavior behavior, bool invert) : PreTokenizerStep
    {
        public override void Split(string piece, bool isFirst, List<string> output)
        {
            if (piece.Length == 0) return;
            // (start, length, isDelimiter) spans covering the whole piece
            var spans = new List<(int Start, int Length, bool Delim)>();
            int pos = 0;
            foreach (var (start, length) in AstralSafeRegex.Matches(regex, piece))
            {
                if (length == 0) continue;
                if (start > pos) spans.Add((pos, start - pos, invert));
                spans.Add((start, length, !invert));
                pos = start + length;
            }
            if (pos < piece.Length) spans.Add((pos, piece.Length - pos, invert));

            var parts = new List<(int Start, int End)>();
            bool pendingMergeNext = false;
            bool previousDelim = false;
            foreach (var (start, length, delim) in spans)
            {
                int end = start + length;
                switch (behavior)
                {
                    case Behavior.Removed:
                        if (!delim) parts.Add((start, end));
                        break;
                    case Behavior.Isolated:
                        parts.Add((start, end));
                        break;
                    case Behavior.MergedWithPrevious:
                        if (delim && parts.Count > 0) parts[^1] = (parts[^1].Start, end);
                        else parts.Add((start, end));
                        break;
                    case Behavior.MergedWithNext:
                        if (pendingMergeNext) parts[^1] = (parts[^1].Start, end);
                        else parts.Add((start, end));
                        pendingMergeNext = delim;
                        break;
                    case Behavior.Contiguous:
                        if (delim && previousDelim && parts.Count > 0) parts[^1] = (parts[^1].Start, end);
                        else parts.Add((start, end));
                        break;
                }
                previousDelim = delim;
            }
            foreach (var (s, e) in parts) output.Add(piece[s..e]);
        }
    }

    /// <summary>ByteLevel: optional prefix space, optional GPT-2 regex split, then bytes to table characters.</summary>
    public sealed class ByteLevel(bool addPrefixSpace, bool useRegex) : PreTokenizerStep
    {
        private static readonly RegexSplit Gpt2 = new(new Regex(Gpt2Pattern, RegexOptions.CultureInvariant), Behavior.Isolated, false);

        public override void Split(string piece, bool isFirst, List<string> output)
        {
            if (addPrefixSpace && !piece.StartsWith(' ')) piece = " " + piece;
            if (!useRegex) { output.Add(ByteLevelMapping.Encode(piece)); return; }
            var parts = new List<string>();
            Gpt2.Split(piece, isFirst, parts);
            foreach (var p in parts) output.Add(ByteLevelMapping.Encode(p));
        }
    }

    /// <summary>Legacy SentencePiece-style Metaspace: spaces become the replacement char, optional prefix, split before it.</summary>
    public sealed class Metaspace(char replacement, string prependScheme, bool split) : PreTokenizerStep
    {
        public override void Split(string piece, bool isFirst, List<string> output)
        {
            piece = piece.Replace(' ', replacement);
            bool prepend = prependScheme == "always" || (prependScheme == "first" && isFirst);
            if (prepend && !piece.StartsWith(replacement)) piece = replacement + piece;
            if (!split) { if (piece.Length > 0) output.Add(piece); return; }
            int start = 0;
            for (int i = 1; i < piece.Length; i++)
            {
                if (piece[i] != replacement) continue;
                output.Add(piece[start..i]);
                start = i;
            }
            if (start < piece.Length) output.Add(piece[start..]);
        }
    }

    public sealed class Digits(bool individual) : PreTokenizerStep
    {
        private static readonly Regex One = new(@"\p{Nd}", RegexOptions.CultureInvariant);
        private static readonly Regex Many = new(@"\p{Nd}+", RegexOptions.CultureInvariant);
        public override void Split(string piece, bool isFirst, List<string> output) =>
            new RegexSplit(individual ? One : Many, Behavior.Isolated, false).Split(piece, isFirst, output);
    }
}

/// <summary>
/// Runs a regex written for Hugging Face (Rust/Oniguruma, which match per Unicode scalar value) on
/// .NET's UTF-16 strings. .NET sees a character outside the BMP as two surrogates of category Cs, so
/// <c>[^\r\n\p{L}\p{N}]?\p{L}+</c> would split an emoji from the word after it, or \p{L} would miss
/// an astral letter. Each astral code point is therefore replaced by one BMP stand-in character of the
/// same Unicode category, the regex runs on that string, and match offsets are mapped back.
/// </summary>
internal static class AstralSafeRegex
{
    private static readonly char[] StandIns = BuildStandIns();

    private static char[] BuildStandIns()
    {
        var map = new char[32];
        for (int c = 0x100; c < 0xFFFF; c++)
        {
            if (char.IsSurrogate((char)c)) continue;
            var cat = (int)CharUnicodeInfo.GetUnicodeCategory((char)c);
            if (map[cat] == '\0') map[cat] = (char)c;
        }
        for (int i = 0; i < map.Length; i++) if (map[i] == '\0') map[i] = '\uE000'; // private use
        return map;
    }

    public static IEnumerable<(int Start, int Length)> Matches(Regex regex, string text)
    {
        bool hasSurrogates = false;
        foreach (var ch in text) if (char.IsSurrogate(ch)) { hasSurrogates = true; break; }
        if (!hasSurrogates)
        {
            foreach (Match m in regex.Matches(text)) yield return (m.Index, m.Length);
            yield break;
        }

        var mapped = new char[text.Length];
        var origIndex = new int[text.Length + 1]; // mapped index -> original index
        int j = 0;
        for (int i = 0; i < text.Length; j++)
        {
            origIndex[j] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                int cp = char.ConvertToUtf32(text[i], text[i + 1]);
                mapped[j] = StandIns[(int)CharUnicodeInfo.GetUnicodeCategory(cp)];
                i += 2;
            }
            else { mapped[j] = text[i]; i++; }
        }
        origIndex[j] = text.Length;
        var s = new string(mapped, 0, j);
        foreach (Match m in regex.Matches(s))
        {
            int start = origIndex[m.Index];
            yield return (start, origIndex[m.Index + m.Length] - start);
        }
    }
}
