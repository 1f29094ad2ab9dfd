using System.Collections;
using System.Globalization;
using PdServe.ChatTemplates.Errors;

namespace PdServe.ChatTemplates.Runtime;

/// <summary>
/// Python-like semantics of template values (strings, longs, doubles, bools, null, lists, string-keyed mappings,
/// <see cref="JinjaUndefined"/>): truth, equality, printing and the conversions the builtins share.
/// </summary>
public static class JinjaValues
{
    public static bool IsTrue(object? value) => value switch
    {
        null or JinjaUndefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        ICollection c => c.Count > 0,
        _ => true,
    };

    public static new bool Equals(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (JinjaUndefined, JinjaUndefined) => true,
        (long x, long y) => x == y,
        (long or double, long or double) => ToDouble(a) == ToDouble(b),
        (string x, string y) => string.Equals(x, y, StringComparison.Ordinal),
        (bool x, bool y) => x == y,
        (IList x, IList y) => x.Count == y.Count && Enumerable.Range(0, x.Count).All(i => Equals(x[i], y[i])),
        _ => ReferenceEquals(a, b),
    };

    public static double ToDouble(object? value) => value switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new JinjaException($"expected a number, got {TypeName(value)}"),
    };

    public static long AsLong(object? value) => value switch
    {
        long l => l,
        double d when d == Math.Floor(d) => (long)d,
        bool b => b ? 1 : 0,
        _ => throw new JinjaException($"expected an integer, got {TypeName(value)}"),
    };

    /// <summary>What a for loop iterates: a list's items, a mapping's keys, a string's characters; nothing for none.</summary>
    public static List<object?> AsList(object? value) => value switch
    {
        string s => s.Select(c => (object?)c.ToString()).ToList(),
        IDictionary d => d.Keys.Cast<object?>().ToList(),
        IList l => l.Cast<object?>().ToList(),
        null or JinjaUndefined => [],
        _ => throw new JinjaException($"cannot iterate over {TypeName(value)}"),
    };

    /// <summary>A mapping's <c>[key, value]</c> pairs, in its order.</summary>
    public static List<object?> Items(object? value) => value is IDictionary d
        ? d.Keys.Cast<object>().Select(k => (object?)new List<object?> { k, d[k] }).ToList()
        : throw new JinjaException($"items() of {TypeName(value)}");

    public static string TypeName(object? value) => value switch
    {
        null => "none",
        JinjaUndefined => "undefined",
        string => "string",
        long => "integer",
        double => "float",
        bool => "boolean",
        IDictionary => "mapping",
        IList => "list",
        _ => value.GetType().Name,
    };

    /// <summary>The text <c>{{ value }}</c> prints, as Python's <c>str()</c> would.</summary>
    public static string Render(object? value) => value switch
    {
        null => "None",
        JinjaUndefined => "",
        string s => s,
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => d == Math.Floor(d) && Math.Abs(d) < 1e16 ? d.ToString("0.0", CultureInfo.InvariantCulture) : d.ToString("R", CultureInfo.InvariantCulture),
        IDictionary dict => "{" + string.Join(", ", dict.Keys.Cast<object>().Select(k => $"{Repr(k)}: {Repr(dict[k])}")) + "}",
        IList list => "[" + string.Join(", ", list.Cast<object?>().Select(Repr)) + "]",
        _ => value.ToString() ?? "",
    };

    /// <summary>Python's <c>str.capitalize</c>: the first character upper case, the rest lower case.</summary>
    public static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    private static string Repr(object? value) => value is string s ? "'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'" : Render(value);
}
