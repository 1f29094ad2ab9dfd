using System.Collections;
using System.Globalization;
using PdServe.ChatTemplates.Errors;

namespace PdServe.ChatTemplates.Runtime;

/// <summary>
/// The filters (<c>value | name(args)</c>) that Llama, Mistral, Qwen and SmolLM chat templates use. Any other fails
/// with a <see cref="JinjaException"/> naming it, rather than rendering something subtly different.
/// </summary>
public static class JinjaFilters
{
    public static object? Apply(string name, object? value, IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs)
    {
        object? Arg(int i, string key, object? fallback) =>
            kwargs.TryGetValue(key, out var k) ? k : i < args.Count ? args[i] : fallback;
        return name switch
        {
            "trim" => JinjaValues.Render(value).Trim(),
            "length" or "count" => value switch
            {
                string s => (long)s.Length,
                ICollection c => (long)c.Count,
                _ => throw new JinjaException($"length of {JinjaValues.TypeName(value)}"),
            },
            "upper" => JinjaValues.Render(value).ToUpperInvariant(),
            "lower" => JinjaValues.Render(value).ToLowerInvariant(),
            "capitalize" => JinjaValues.Capitalize(JinjaValues.Render(value)),
            "title" => CultureInfo.InvariantCulture.TextInfo.ToTitleCase(JinjaValues.Render(value).ToLowerInvariant()),
            "string" => JinjaValues.Render(value),
            "safe" => value,
            "int" => value switch
            {
                long l => l,
                double d => (long)d,
                string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long parsed) => parsed,
                _ => 0L,
            },
            "tojson" => JinjaJson.Write(value, Arg(0, "indent", null) is long indent ? (int)indent : null),
            "default" or "d" => value is JinjaUndefined || (JinjaValues.IsTrue(Arg(1, "boolean", false)) && !JinjaValues.IsTrue(value))
                ? Arg(0, "default_value", "") : value,
            "first" => value is IList { Count: > 0 } first ? first[0] : JinjaUndefined.Instance,
            "last" => value is IList { Count: > 0 } last ? last[^1] : JinjaUndefined.Instance,
            "join" => string.Join(JinjaValues.Render(Arg(0, "d", "")), JinjaValues.AsList(value).Select(JinjaValues.Render)),
            "list" => JinjaValues.AsList(value),
            "reverse" => value is string r ? new string(r.Reverse().ToArray()) : JinjaValues.AsList(value).AsEnumerable().Reverse().ToList(),
            "items" => JinjaValues.Items(value),
            "replace" => JinjaValues.Render(value).Replace(JinjaValues.Render(Arg(0, "old", "")), JinjaValues.Render(Arg(1, "new", "")), StringComparison.Ordinal),
            _ => throw new JinjaException($"unsupported filter '{name}'"),
        };
    }
}
