namespace PdServe.ChatTemplates.Errors;

/// <summary>
/// A template that uses syntax outside the supported subset, or fails while rendering. Syntax errors carry the
/// position in the template (1-based line and column), so a broken chat template can be found and fixed.
/// </summary>
public sealed class JinjaException : Exception
{
    public JinjaException(string reason) : base(reason) => Reason = reason;

    private JinjaException(string reason, int line, int column) : base($"{reason} (line {line}, column {column})")
    {
        Reason = reason;
        Line = line;
        Column = column;
    }

    /// <summary>What is wrong, without the position.</summary>
    public string Reason { get; }
    public int? Line { get; }
    public int? Column { get; }

    /// <summary>A syntax error at character <paramref name="offset"/> of <paramref name="template"/>.</summary>
    public static JinjaException At(string template, int offset, string reason)
    {
        offset = Math.Clamp(offset, 0, template.Length);
        int lineStart = offset == 0 ? 0 : template.LastIndexOf('\n', offset - 1) + 1;
        int line = 1 + template.AsSpan(0, lineStart).Count('\n');
        return new JinjaException(reason, line, offset - lineStart + 1);
    }
}
