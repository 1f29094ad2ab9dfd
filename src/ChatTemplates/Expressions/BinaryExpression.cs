using System.Collections;
using PdServe.ChatTemplates.Runtime;
using PdServe.ChatTemplates.Errors;

namespace PdServe.ChatTemplates.Expressions;

public sealed record BinaryExpression(JinjaExpression Left, string Operator, JinjaExpression Right) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope)
    {
        object? a = Left.Evaluate(scope), b = Right.Evaluate(scope);
        return Operator switch
        {
            "==" => JinjaValues.Equals(a, b),
            "!=" => !JinjaValues.Equals(a, b),
            "<" => Compare(a, b) < 0,
            "<=" => Compare(a, b) <= 0,
            ">" => Compare(a, b) > 0,
            ">=" => Compare(a, b) >= 0,
            "in" => Contains(b, a),
            "not in" => !Contains(b, a),
            "~" => JinjaValues.Render(a) + JinjaValues.Render(b),
            "+" => Add(a, b),
            "-" => Arithmetic(a, b, (x, y) => x - y, (x, y) => x - y),
            "*" => a is string s && b is long n ? string.Concat(Enumerable.Repeat(s, (int)Math.Max(0, n)))
                : Arithmetic(a, b, (x, y) => x * y, (x, y) => x * y),
            "/" => JinjaValues.ToDouble(a) / JinjaValues.ToDouble(b),
            "//" => a is long x1 && b is long y1 ? (object)(long)Math.Floor((double)x1 / y1) : Math.Floor(JinjaValues.ToDouble(a) / JinjaValues.ToDouble(b)),
            "%" => a is long x2 && b is long y2 ? (object)(((x2 % y2) + y2) % y2) : JinjaValues.ToDouble(a) % JinjaValues.ToDouble(b),
            _ => throw new JinjaException($"unknown operator '{Operator}'"),
        };
    }

    private static object? Add(object? a, object? b) => (a, b) switch
    {
        (string x, _) => x + JinjaValues.Render(b),
        (_, string y) => JinjaValues.Render(a) + y,
        (IList x, IList y) => x.Cast<object?>().Concat(y.Cast<object?>()).ToList(),
        _ => Arithmetic(a, b, (x, y) => x + y, (x, y) => x + y),
    };

    private static object Arithmetic(object? a, object? b, Func<long, long, long> onLongs, Func<double, double, double> onDoubles) =>
        // Boxed per branch: a plain conditional would promote the long result to double.
        a is long x && b is long y ? (object)onLongs(x, y) : (object)onDoubles(JinjaValues.ToDouble(a), JinjaValues.ToDouble(b));

    private static int Compare(object? a, object? b) => (a, b) switch
    {
        (string x, string y) => string.CompareOrdinal(x, y),
        _ => JinjaValues.ToDouble(a).CompareTo(JinjaValues.ToDouble(b)),
    };

    private static bool Contains(object? container, object? item) => container switch
    {
        string s => s.Contains(JinjaValues.Render(item), StringComparison.Ordinal),
        IDictionary d => item is not null && d.Contains(JinjaValues.Render(item)),
        IList l => l.Cast<object?>().Any(x => JinjaValues.Equals(x, item)),
        null or JinjaUndefined => false,
        _ => throw new JinjaException($"'in' needs a string, list or mapping, got {JinjaValues.TypeName(container)}"),
    };
}
