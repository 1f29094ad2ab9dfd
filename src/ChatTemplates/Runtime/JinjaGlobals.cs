using System.Globalization;
using System.Text;
using PdServe.ChatTemplates.Errors;

namespace PdServe.ChatTemplates.Runtime;

/// <summary>
/// The global functions chat templates call: <c>raise_exception</c> (refuses the input), <c>namespace</c> (state a
/// loop body can change), <c>range</c> and <c>strftime_now</c>.
/// </summary>
public static class JinjaGlobals
{
    public static readonly IReadOnlyDictionary<string, JinjaFunction> All = new Dictionary<string, JinjaFunction>(StringComparer.Ordinal)
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
            if (args.Count == 1) stop = JinjaValues.AsLong(args[0]);
            else
            {
                start = JinjaValues.AsLong(args[0]);
                stop = JinjaValues.AsLong(args[1]);
                if (args.Count > 2) step = JinjaValues.AsLong(args[2]);
            }
            if (step == 0) throw new JinjaException("range() step must not be zero");
            var values = new List<object?>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step) values.Add(i);
            return values;
        },
        ["strftime_now"] = (args, _) => StrFTime(DateTime.Now, args.Count > 0 ? JinjaValues.Render(args[0]) : "%Y-%m-%d"),
    };

    private static string StrFTime(DateTime time, string format)
    {
        var result = new StringBuilder();
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
