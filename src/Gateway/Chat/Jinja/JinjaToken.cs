namespace PdServe.Gateway.Chat.Jinja;

public enum JinjaTokenKind { Name, String, Integer, Float, Operator, End }

/// <summary>One token inside a <c>{{ }}</c> or <c>{% %}</c> tag.</summary>
public readonly record struct JinjaToken(JinjaTokenKind Kind, string Text)
{
    public bool Is(string op) => Kind == JinjaTokenKind.Operator && Text == op;
    public bool IsName(string name) => Kind == JinjaTokenKind.Name && Text == name;
}
