using System.Collections;
using System.Globalization;
using PdServe.ChatTemplates.Errors;

namespace PdServe.ChatTemplates.Runtime;

/// <summary>
/// What <c>a.b</c> and <c>a[b]</c> reach: a mapping's keys, list and string items and slices (Python's rules for
/// negative indexes and steps), and the string and mapping methods chat templates call. Anything missing is
/// undefined rather than an error, as in Jinja.
/// </summary>
public static class JinjaMembers
{
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
                long i = JinjaValues.AsLong(index);
                if (i < 0) i += list.Count;
                return i >= 0 && i < list.Count ? list[(int)i] : JinjaUndefined.Instance;
            case string s:
                long j = JinjaValues.AsLong(index);
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
        long n = items.Count, by = step is null or JinjaUndefined ? 1 : JinjaValues.AsLong(step);
        if (by == 0) throw new JinjaException("slice step must not be zero");
        long Bound(object? value, long fallback)
        {
            if (value is null or JinjaUndefined) return fallback;
            long v = JinjaValues.AsLong(value);
            if (v < 0) v += n;
            return by > 0 ? Math.Clamp(v, 0, n) : Math.Clamp(v, -1, n - 1);
        }
        long from = Bound(start, by > 0 ? 0 : n - 1), to = Bound(stop, by > 0 ? n : -1);
        var result = new List<object?>();
        for (long i = from; by > 0 ? i < to : i > to; i += by) result.Add(items[(int)i]);
        return target is string ? string.Concat(result.Cast<string>()) : result;
    }

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
            "capitalize" => (JinjaFunction)((_, _) => JinjaValues.Capitalize(s)),
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
        "items" => (JinjaFunction)((_, _) => JinjaValues.Items(d)),
        "keys" => (JinjaFunction)((_, _) => d.Keys.Cast<object?>().ToList()),
        "values" => (JinjaFunction)((_, _) => d.Values.Cast<object?>().ToList()),
        "get" => (JinjaFunction)((args, _) =>
        {
            string key = JinjaValues.Render(args[0]);
            return d.Contains(key) ? d[key] : args.Count > 1 ? args[1] : null;
        }),
        _ => JinjaUndefined.Instance,
    };
}
