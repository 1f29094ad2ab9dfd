using System.Collections;
using System.Globalization;
using System.Text;

namespace PdServe.Gateway.Chat.Jinja;

/// <summary>A name the template reads but nobody defined: empty when printed, false when tested.</summary>
public sealed class JinjaUndefined
{
    public static readonly JinjaUndefined Instance = new();
    private JinjaUndefined() { }
}

/// <summary>The object <c>namespace(...)</c> makes: attributes that a loop body can set and the outside can read.</summary>
public sealed class JinjaNamespace : Dictionary<string, object?>
{
    public JinjaNamespace() : base(StringComparer.Ordinal) { }
}

/// <summary>A callable value: a global function, a filter target's method, or a bound string/dict method.</summary>
public delegate object? JinjaFunction(IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs);

/// <summary>Python-like semantics of template values: truth, equality, printing, JSON.</summary>
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

    private static string Repr(object? value) => value is string s ? "'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'" : Render(value);

    /// <summary>JSON as Python's <c>json.dumps(ensure_ascii=False)</c> writes it (", " and ": " separators).</summary>
    public static string ToJson(object? value, int? indent = null)
    {
        var output = new StringBuilder();
        WriteJson(output, value, indent, 0);
        return output.ToString();
    }

    private static void WriteJson(StringBuilder output, object? value, int? indent, int depth)
    {
        switch (value)
        {
            case null or JinjaUndefined:
                output.Append("null");
                break;
            case bool b:
                output.Append(b ? "true" : "false");
                break;
            case long or double:
                output.Append(Render(value));
                break;
            case string s:
                output.Append(System.Text.Json.JsonSerializer.Serialize(s, Api.GatewayJson.Options));
                break;
            case IDictionary dict:
                WriteContainer(output, '{', '}', dict.Keys.Cast<object>().ToList(), indent, depth, key =>
                {
                    WriteJson(output, key.ToString(), indent, depth + 1);
                    output.Append(": ");
                    WriteJson(output, dict[key], indent, depth + 1);
                });
                break;
            case IList list:
                WriteContainer(output, '[', ']', list.Cast<object?>().ToList(), indent, depth,
                    item => WriteJson(output, item, indent, depth + 1));
                break;
            default:
                throw new JinjaException($"cannot convert {TypeName(value)} to JSON");
        }
    }

    private static void WriteContainer<T>(StringBuilder output, char open, char close, List<T> items, int? indent,
        int depth, Action<T> writeItem)
    {
        output.Append(open);
        for (int i = 0; i < items.Count; i++)
        {
            if (indent is { } n) output.Append('\n').Append(' ', n * (depth + 1));
            writeItem(items[i]);
            if (i + 1 < items.Count) output.Append(indent is null ? ", " : ",");
        }
        if (indent is { } m && items.Count > 0) output.Append('\n').Append(' ', m * depth);
        output.Append(close);
    }
}
