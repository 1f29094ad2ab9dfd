using System.Collections;

namespace PdServe.Gateway.Chat.Jinja;

/// <summary>An expression inside a tag; evaluates to a template value.</summary>
public abstract record JinjaExpression
{
    public abstract object? Evaluate(JinjaScope scope);
}

public sealed record LiteralExpression(object? Value) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => Value;
}

public sealed record NameExpression(string Name) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => scope.Get(Name);
}

public sealed record ListExpression(IReadOnlyList<JinjaExpression> Items) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => Items.Select(i => i.Evaluate(scope)).ToList();
}

public sealed record DictExpression(IReadOnlyList<(JinjaExpression Key, JinjaExpression Value)> Entries) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope)
    {
        var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in Entries) dict[JinjaValues.Render(key.Evaluate(scope))] = value.Evaluate(scope);
        return dict;
    }
}

/// <summary><c>a.b</c>: a mapping's key, else a method of the value (<c>.strip</c>, <c>.items</c>...).</summary>
public sealed record AttributeExpression(JinjaExpression Target, string Name) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => JinjaBuiltins.GetAttribute(Target.Evaluate(scope), Name);
}

/// <summary><c>a[b]</c> and <c>a[start:stop:step]</c>.</summary>
public sealed record SubscriptExpression(JinjaExpression Target, JinjaExpression? Index,
    JinjaExpression? Start, JinjaExpression? Stop, JinjaExpression? Step, bool IsSlice) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope)
    {
        object? target = Target.Evaluate(scope);
        if (!IsSlice) return JinjaBuiltins.GetItem(target, Index!.Evaluate(scope));
        return JinjaBuiltins.Slice(target, Start?.Evaluate(scope), Stop?.Evaluate(scope), Step?.Evaluate(scope));
    }
}

public sealed record CallExpression(JinjaExpression Target, IReadOnlyList<JinjaExpression> Args,
    IReadOnlyList<(string Name, JinjaExpression Value)> Kwargs) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope)
    {
        if (Target.Evaluate(scope) is not JinjaFunction function)
            throw new JinjaException($"{Describe(Target)} is not callable");
        return function(Args.Select(a => a.Evaluate(scope)).ToList(),
            Kwargs.ToDictionary(k => k.Name, k => k.Value.Evaluate(scope), StringComparer.Ordinal));
    }

    private static string Describe(JinjaExpression e) => e switch
    {
        NameExpression n => n.Name,
        AttributeExpression a => a.Name,
        _ => "the value",
    };
}

/// <summary><c>value | name(args)</c>.</summary>
public sealed record FilterExpression(JinjaExpression Target, string Name, IReadOnlyList<JinjaExpression> Args,
    IReadOnlyList<(string Name, JinjaExpression Value)> Kwargs) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) =>
        JinjaBuiltins.ApplyFilter(Name, Target.Evaluate(scope), Args.Select(a => a.Evaluate(scope)).ToList(),
            Kwargs.ToDictionary(k => k.Name, k => k.Value.Evaluate(scope), StringComparer.Ordinal));
}

/// <summary><c>value is [not] name(args)</c>.</summary>
public sealed record TestExpression(JinjaExpression Target, string Name, IReadOnlyList<JinjaExpression> Args, bool Negated)
    : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) =>
        JinjaBuiltins.ApplyTest(Name, Target.Evaluate(scope), Args.Select(a => a.Evaluate(scope)).ToList()) != Negated;
}

public sealed record NotExpression(JinjaExpression Operand) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => !JinjaValues.IsTrue(Operand.Evaluate(scope));
}

public sealed record NegateExpression(JinjaExpression Operand) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => Operand.Evaluate(scope) switch
    {
        long l => (object)-l,
        var v => -JinjaValues.ToDouble(v),
    };
}

/// <summary><c>a and b</c> / <c>a or b</c>, short-circuit, yielding an operand as Python does.</summary>
public sealed record LogicalExpression(JinjaExpression Left, string Operator, JinjaExpression Right) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope)
    {
        object? left = Left.Evaluate(scope);
        bool leftTrue = JinjaValues.IsTrue(left);
        return Operator == "and" ? (leftTrue ? Right.Evaluate(scope) : left) : (leftTrue ? left : Right.Evaluate(scope));
    }
}

/// <summary><c>a if condition else b</c>.</summary>
public sealed record ConditionalExpression(JinjaExpression Condition, JinjaExpression Then, JinjaExpression? Else)
    : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) =>
        JinjaValues.IsTrue(Condition.Evaluate(scope)) ? Then.Evaluate(scope) : Else?.Evaluate(scope) ?? JinjaUndefined.Instance;
}

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
