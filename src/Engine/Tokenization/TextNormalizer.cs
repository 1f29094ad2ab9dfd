using System.Text;
using System.Text.RegularExpressions;

namespace PdServe.Engine.Tokenization;

/// <summary>A tokenizer.json "normalizer": rewrites one text segment before pre-tokenization.</summary>
internal abstract class TextNormalizer
{
    public abstract string Normalize(string text);

    public sealed class Sequence(IReadOnlyList<TextNormalizer> steps) : TextNormalizer
    {
        public override string Normalize(string text)
        {
            foreach (var s in steps) text = s.Normalize(text);
            return text;
        }
    }

    /// <summary>Prepends <c>prefix</c> to a non-empty segment (Llama 2's "▁").</summary>
    public sealed class Prepend(string prefix) : TextNormalizer
    {
        public override string Normalize(string text) => text.Length == 0 ? text : prefix + text;
    }

    public sealed class Replace(Regex pattern, string content) : TextNormalizer
    {
        public override string Normalize(string text) => pattern.Replace(text, content.Replace("$", "$$"));
    }

    public sealed class Unicode(NormalizationForm form) : TextNormalizer
    {
        public override string Normalize(string text) => text.IsNormalized(form) ? text : text.Normalize(form);
    }

    public sealed class Lowercase : TextNormalizer
    {
        public override string Normalize(string text) => text.ToLowerInvariant();
    }

    public sealed class Strip(bool left, bool right) : TextNormalizer
    {
        public override string Normalize(string text) =>
            left && right ? text.Trim() : left ? text.TrimStart() : right ? text.TrimEnd() : text;
    }
}
