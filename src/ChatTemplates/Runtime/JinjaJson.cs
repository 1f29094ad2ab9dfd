using System.Collections;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using PdServe.ChatTemplates.Errors;

namespace PdServe.ChatTemplates.Runtime;

/// <summary>The <c>tojson</c> filter: JSON as Python's <c>json.dumps(ensure_ascii=False)</c> writes it (", " and ": " separators).</summary>
public static class JinjaJson
{
    // Message text is arbitrary; escape only what JSON requires, so the model sees the text as the client sent it.
    private static readonly JsonSerializerOptions StringOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(object? value, int? indent = null)
    {
        var output = new StringBuilder();
        WriteValue(output, value, indent, 0);
        return output.ToString();
    }

    private static void WriteValue(StringBuilder output, object? value, int? indent, int depth)
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
                output.Append(JinjaValues.Render(value));
                break;
            case string s:
                output.Append(JsonSerializer.Serialize(s, StringOptions));
                break;
            case IDictionary dict:
                WriteContainer(output, '{', '}', dict.Keys.Cast<object>().ToList(), indent, depth, key =>
                {
                    WriteValue(output, key.ToString(), indent, depth + 1);
                    output.Append(": ");
                    WriteValue(output, dict[key], indent, depth + 1);
                });
                break;
            case IList list:
                WriteContainer(output, '[', ']', list.Cast<object?>().ToList(), indent, depth,
                    item => WriteValue(output, item, indent, depth + 1));
                break;
            default:
                throw new JinjaException($"cannot convert {JinjaValues.TypeName(value)} to JSON");
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
