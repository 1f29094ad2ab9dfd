namespace PdServe.ChatTemplates.Syntax;

/// <summary>One token inside a <c>{{ }}</c> or <c>{% %}</c> tag, and where it starts in the template (for errors).</summary>
public readonly record struct JinjaToken(JinjaTokenKind Kind, string Text, int Offset)
{
    public bool Is(string op) => Kind == JinjaTokenKind.Operator && Text == op;
    public bool IsName(string name) => Kind == JinjaTokenKind.Name && Text == name;
}
