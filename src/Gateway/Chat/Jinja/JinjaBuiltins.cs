using System.Collections;
using System.Globalization;

namespace PdServe.Gateway.Chat.Jinja;

/// <summary>
/// The globals, filters, tests and methods that Llama, Mistral, Qwen and SmolLM chat templates use. Anything else
/// fails with a <see cref="JinjaException"/> naming it, rather than rendering something subtly different.
/// </summary>
public static class JinjaBuiltins
{
    public static readonly IReadOnlyDictionary<string, JinjaFunction> Globals = new Dictionary<string, JinjaFunction>(StringComparer.Ordinal)
    {
        ["raise_exception"] = (args, _) => throw new JinjaRaisedException(args.Count > 0 ? JinjaValues.Render(args[0]) : "template error"),
        ["namespace"] = (_, kwargs) =>
        {
            var ns = new JinjaNamespace();
            foreach (var (key, value) in kwargs) ns[key] = value;
            return ns;
        },
        ["range"] = (args, _) =>
        {
            long start = 0, stop, step = 1;
            if (args.Count == 1) stop = AsLong(args[0]);
            else
            {
                start = AsLong(args[0]);
                stop = AsLong(args[1]);
                if (args.Count > 2) step = AsLong(args[2]);
            }
            if (step == 0) throw new JinjaException("range() step must not be zero");
            var values = new List<object?>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step) values.Add(i);
            return values;
        },
        ["strftime_now"] = (args, _) => StrFTime(DateTime.Now, args.Count > 0 ? JinjaValues.Render(args[0]) : "%Y-%m-%d"),
    };

    public static object? GetAttribute(object? target, string name)
    {
        if (target is IDictionary dict && dict.Contains(name)) return dict[name];
        return target switch
        {
            string s => StringMethod(s, name),
            IDictionary d => DictMethod(d, name),
            _ => JinjaUndefined.Instance,
        };
    }

    public static object? GetItem(object? target, object? index)
    {
        switch (target)
        {
            case IDictionary dict:
                string key = JinjaValues.Render(index);
                return dict.Contains(key) ? dict[key] : JinjaUndefined.Instance;
            case IList list:
                long i = AsLong(index);
                if (i < 0) i += list.Count;
                return i >= 0 && i < list.Count ? list[(int)i] : JinjaUndefined.Instance;
            case string s:
                long j = AsLong(index);
                if (j < 0) j += s.Length;
                return j >= 0 && j < s.Length ? s[(int)j].ToString() : JinjaUndefined.Instance;
            default:
                return index is string name ? GetAttribute(target, name) : JinjaUndefined.Instance;
        }
    }

    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        List<object?> items = target switch
        {
            string s => s.Select(c => (object?)c.ToString()).ToList(),
            IList list => list.Cast<object?>().ToList(),
            _ => throw new JinjaException($"cannot slice {JinjaValues.TypeName(target)}"),
        };
        long n = items.Count, by = step is null or JinjaUndefined ? 1 : AsLong(step);
        if (by == 0) throw new JinjaException("slice step must not be zero");
        long Bound(object? value, long fallback)
        {
            if (value is null or JinjaUndefined) return fallback;
            long v = AsLong(value);
            if (v < 0) v += n;
            return by > 0 ? Math.Clamp(v, 0, n) : Math.Clamp(v, -1, n - 1);
        }
        long from = Bound(start, by > 0 ? 0 : n - 1), to = Bound(stop, by > 0 ? n : -1);
        var result = new List<object?>();
        for (long i = from; by > 0 ? i < to : i > to; i += by) result.Add(items[(int)i]);
        return target is string ? string.Concat(result.Cast<string>()) : result;
    }

    public static object? ApplyFilter(string name, object? value, IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs)
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
            "capitalize" => Capitalize(JinjaValues.Render(value)),
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
            "tojson" => JinjaValues.ToJson(value, Arg(0, "indent", null) is long indent ? (int)indent : null),
            "default" or "d" => value is JinjaUndefined || (JinjaValues.IsTrue(Arg(1, "boolean", false)) && !JinjaValues.IsTrue(value))
                ? Arg(0, "default_value", "") : value,
            "first" => value is IList { Count: > 0 } first ? first[0] : JinjaUndefined.Instance,
            "last" => value is IList { Count: > 0 } last ? last[^1] : JinjaUndefined.Instance,
            "join" => string.Join(JinjaValues.Render(Arg(0, "d", "")), AsList(value).Select(JinjaValues.Render)),
            "list" => AsList(value),
            "reverse" => value is string r ? new string(r.Reverse().ToArray()) : AsList(value).AsEnumerable().Reverse().ToList(),
            "items" => Items(value),
            "replace" => JinjaValues.Render(value).Replace(JinjaValues.Render(Arg(0, "old", "")), JinjaValues.Render(Arg(1, "new", "")), StringComparison.Ordinal),
            _ => throw new JinjaException($"unsupported filter '{name}'"),
        };
    }

    public static bool ApplyTest(string name, object? value, IReadOnlyList<object?> args) => name switch
    {
        "defined" => value is not JinjaUndefined,
        "undefined" => value is JinjaUndefined,
        "none" => value is null,
        "string" => value is string,
        "number" => value is long or double,
        "integer" => value is long,
        "float" => value is double,
        "boolean" => value is bool,
        "true" => value is true,
        "false" => value is false,
        "mapping" => value is IDictionary,
        "sequence" or "iterable" => value is string or IList or IDictionary,
        "odd" => AsLong(value) % 2 != 0,
        "even" => AsLong(value) % 2 == 0,
        "divisibleby" => AsLong(value) % AsLong(args[0]) == 0,
        "eq" or "equalto" or "sameas" => JinjaValues.Equals(value, args[0]),
        _ => throw new JinjaException($"unsupported test '{name}'"),
    };

    public static List<object?> AsList(object? value) => value switch
    {
        string s => s.Select(c => (object?)c.ToString()).ToList(),
        IDictionary d => d.Keys.Cast<object?>().ToList(),
        IList l => l.Cast<object?>().ToList(),
        null or JinjaUndefined => [],
        _ => throw new JinjaException($"cannot iterate over {JinjaValues.TypeName(value)}"),
    };

    private static List<object?> Items(object? value) => value is IDictionary d
        ? d.Keys.Cast<object>().Select(k => (object?)new List<object?> { k, d[k] }).ToList()
        : throw new JinjaException($"items() of {JinjaValues.TypeName(value)}");

    private static long AsLong(object? value) => value switch
    {
        long l => l,
        double d when d == Math.Floor(d) => (long)d,
        bool b => b ? 1 : 0,
        _ => throw new JinjaException($"expected an integer, got {JinjaValues.TypeName(value)}"),
    };

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    private static object? StringMethod(string s, string name)
    {
        string Chars(IReadOnlyList<object?> args) => args.Count > 0 && args[0] is string c ? c : "";
        return name switch
        {
            "strip" => (JinjaFunction)((args, _) => Chars(args) is { Length: > 0 } c ? s.Trim(c.ToCharArray()) : s.Trim()),
            "lstrip" => (JinjaFunction)((args, _) => Chars(args) is { Length: > 0 } c ? s.TrimStart(c.ToCharArray()) : s.TrimStart()),
            "rstrip" => (JinjaFunction)((args, _) => Chars(args) is { Length: > 0 } c ? s.TrimEnd(c.ToCharArray()) : s.TrimEnd()),
            "upper" => (JinjaFunction)((_, _) => s.ToUpperInvariant()),
            "lower" => (JinjaFunction)((_, _) => s.ToLowerInvariant()),
            "title" => (JinjaFunction)((_, _) => CultureInfo.InvariantCulture.TextInfo.ToTitleCase(s.ToLowerInvariant())),
            "capitalize" => (JinjaFunction)((_, _) => Capitalize(s)),
            "startswith" => (JinjaFunction)((args, _) => s.StartsWith(JinjaValues.Render(args[0]), StringComparison.Ordinal)),
            "endswith" => (JinjaFunction)((args, _) => s.EndsWith(JinjaValues.Render(args[0]), StringComparison.Ordinal)),
            "replace" => (JinjaFunction)((args, _) => s.Replace(JinjaValues.Render(args[0]), JinjaValues.Render(args[1]), StringComparison.Ordinal)),
            "split" => (JinjaFunction)((args, _) => (args.Count > 0 && args[0] is string sep
                ? s.Split(sep)
                : s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).Select(p => (object?)p).ToList()),
            _ => JinjaUndefined.Instance,
        };
    }

    private static object? DictMethod(IDictionary d, string name) => name switch
    {
        "items" => (JinjaFunction)((_, _) => Items(d)),
        "keys" => (JinjaFunction)((_, _) => d.Keys.Cast<object?>().ToList()),
        "values" => (JinjaFunction)((_, _) => d.Values.Cast<object?>().ToList()),
        "get" => (JinjaFunction)((args, _) =>
        {
            string key = JinjaValues.Render(args[0]);
            return d.Contains(key) ? d[key] : args.Count > 1 ? args[1] : null;
        }),
        _ => JinjaUndefined.Instance,
    };

    private static string StrFTime(DateTime time, string format)
    {
        var result = new System.Text.StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 == format.Length)
            {
                result.Append(format[i]);
                continue;
            }
            char code = format[++i];
            result.Append(code switch
            {
                'd' => time.ToString("dd", CultureInfo.InvariantCulture),
                'm' => time.ToString("MM", CultureInfo.InvariantCulture),
                'Y' => time.ToString("yyyy", CultureInfo.InvariantCulture),
                'y' => time.ToString("yy", CultureInfo.InvariantCulture),
                'b' => time.ToString("MMM", CultureInfo.InvariantCulture),
                'B' => time.ToString("MMMM", CultureInfo.InvariantCulture),
                'H' => time.ToString("HH", CultureInfo.InvariantCulture),
                'M' => time.ToString("mm", CultureInfo.InvariantCulture),
                'S' => time.ToString("ss", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => "%" + code,
            });
        }
        return result.ToString();
    }
}
