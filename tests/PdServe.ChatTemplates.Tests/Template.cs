namespace PdServe.ChatTemplates.Tests;

/// <summary>Parses and renders a template in one call, with template values built the way the gateway builds them.</summary>
internal static class Template
{
    public static string Render(string template, params (string Name, object? Value)[] variables) =>
        JinjaTemplate.Parse(template).Render(variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal));

    public static List<object?> List(params object?[] items) => [.. items];

    public static Dictionary<string, object?> Map(params (string Key, object? Value)[] entries) =>
        entries.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);

    public static Dictionary<string, object?> Message(string role, string content) => Map(("role", role), ("content", content));
}
