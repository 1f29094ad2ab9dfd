using System.Text;
using PdServe.ChatTemplates.Errors;

namespace PdServe.ChatTemplates.Syntax;

/// <summary>
/// Splits a template into text and tags, applying whitespace control the way Hugging Face renders chat templates:
/// <c>{%- -%}</c> / <c>{{- -}}</c> trims, plus <c>trim_blocks</c> (the newline after a block tag goes) and
/// <c>lstrip_blocks</c> (indentation before a block tag on its own line goes). Errors carry their line and column.
/// </summary>
public static class JinjaLexer
{
    private static readonly string[] TwoCharOperators = ["==", "!=", "<=", ">=", "//", "**"];
    private const string SingleCharOperators = "+-*/%~|.,:()[]{}=<>";

    public static List<JinjaSegment> Lex(string template)
    {
        var segments = new List<JinjaSegment>();
        int pos = 0;
        bool trimNextText = false, dropNextNewline = false;
        while (pos <= template.Length)
        {
            int start = NextTagStart(template, pos);
            string text = template[pos..(start < 0 ? template.Length : start)];
            if (trimNextText) text = text.TrimStart();
            else if (dropNextNewline) text = DropLeadingNewline(text);
            if (start < 0)
            {
                AddText(segments, text, pos);
                break;
            }

            char kind = template[start + 1];
            bool trimBefore = start + 2 < template.Length && template[start + 2] == '-';
            if (trimBefore) text = text.TrimEnd();
            else if (kind != '{') text = StripIndentBeforeBlock(text, atTemplateStart: pos == 0);
            AddText(segments, text, pos);

            int contentStart = start + 2 + (trimBefore || (start + 2 < template.Length && template[start + 2] == '+') ? 1 : 0);
            if (kind == '#')
            {
                int end = template.IndexOf("#}", contentStart, StringComparison.Ordinal);
                if (end < 0) throw JinjaException.At(template, start, "unclosed comment");
                trimNextText = template[end - 1] == '-';
                dropNextNewline = true;
                pos = end + 2;
                continue;
            }
            string endMarker = kind == '{' ? "}}" : "%}";
            var tokens = Tokenize(template, start, contentStart, endMarker, out int after, out bool trimAfter);
            segments.Add(new JinjaSegment(kind == '{' ? JinjaSegmentKind.Output : JinjaSegmentKind.Statement, "", tokens, start));
            trimNextText = trimAfter;
            dropNextNewline = kind == '%';
            pos = after;
        }
        return segments;
    }

    private static int NextTagStart(string template, int from)
    {
        for (int i = template.IndexOf('{', from); i >= 0 && i + 1 < template.Length; i = template.IndexOf('{', i + 1))
        {
            if (template[i + 1] is '{' or '%' or '#') return i;
        }
        return -1;
    }

    private static void AddText(List<JinjaSegment> segments, string text, int offset)
    {
        if (text.Length > 0) segments.Add(new JinjaSegment(JinjaSegmentKind.Text, text, [], offset));
    }

    private static string DropLeadingNewline(string text) =>
        text.StartsWith("\r\n", StringComparison.Ordinal) ? text[2..] : text.StartsWith('\n') ? text[1..] : text;

    private static string StripIndentBeforeBlock(string text, bool atTemplateStart)
    {
        int newline = text.LastIndexOf('\n');
        if (newline < 0 && !atTemplateStart) return text;
        int lineStart = newline + 1;
        for (int i = lineStart; i < text.Length; i++)
        {
            if (text[i] is not (' ' or '\t')) return text;
        }
        return text[..lineStart];
    }

    private static List<JinjaToken> Tokenize(string s, int tagStart, int pos, string endMarker, out int after, out bool trimAfter)
    {
        var tokens = new List<JinjaToken>();
        int end;
        while (true)
        {
            while (pos < s.Length && char.IsWhiteSpace(s[pos])) pos++;
            if (pos >= s.Length) throw JinjaException.At(s, tagStart, $"unclosed tag, expected '{endMarker}'");
            end = pos;
            if (string.CompareOrdinal(s, pos, "-" + endMarker, 0, 3) == 0)
            {
                (after, trimAfter) = (pos + 3, true);
                break;
            }
            if (string.CompareOrdinal(s, pos, "+" + endMarker, 0, 3) == 0)
            {
                (after, trimAfter) = (pos + 3, false);
                break;
            }
            if (string.CompareOrdinal(s, pos, endMarker, 0, 2) == 0)
            {
                (after, trimAfter) = (pos + 2, false);
                break;
            }
            char c = s[pos];
            if (char.IsLetter(c) || c == '_')
            {
                int begin = pos;
                while (pos < s.Length && (char.IsLetterOrDigit(s[pos]) || s[pos] == '_')) pos++;
                tokens.Add(new JinjaToken(JinjaTokenKind.Name, s[begin..pos], begin));
            }
            else if (char.IsDigit(c))
            {
                int begin = pos;
                while (pos < s.Length && char.IsDigit(s[pos])) pos++;
                bool isFloat = pos + 1 < s.Length && s[pos] == '.' && char.IsDigit(s[pos + 1]);
                if (isFloat)
                {
                    pos++;
                    while (pos < s.Length && char.IsDigit(s[pos])) pos++;
                }
                tokens.Add(new JinjaToken(isFloat ? JinjaTokenKind.Float : JinjaTokenKind.Integer, s[begin..pos], begin));
            }
            else if (c is '\'' or '"')
            {
                int begin = pos;
                tokens.Add(new JinjaToken(JinjaTokenKind.String, ReadString(s, ref pos), begin));
            }
            else if (pos + 1 < s.Length && TwoCharOperators.Contains(s.Substring(pos, 2)))
            {
                tokens.Add(new JinjaToken(JinjaTokenKind.Operator, s.Substring(pos, 2), pos));
                pos += 2;
            }
            else if (SingleCharOperators.Contains(c))
            {
                tokens.Add(new JinjaToken(JinjaTokenKind.Operator, c.ToString(), pos));
                pos++;
            }
            else
                throw JinjaException.At(s, pos, $"unexpected character '{c}' in a tag");
        }
        tokens.Add(new JinjaToken(JinjaTokenKind.End, "", end));
        return tokens;
    }

    private static string ReadString(string s, ref int pos)
    {
        int start = pos;
        char quote = s[pos++];
        var text = new StringBuilder();
        while (pos < s.Length && s[pos] != quote)
        {
            char c = s[pos++];
            if (c != '\\' || pos >= s.Length)
            {
                text.Append(c);
                continue;
            }
            char escaped = s[pos++];
            text.Append(escaped switch
            {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                _ => escaped,
            });
        }
        if (pos >= s.Length) throw JinjaException.At(s, start, "unterminated string literal");
        pos++;
        return text.ToString();
    }
}
