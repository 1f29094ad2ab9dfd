using System.Text;

namespace PdServe.Gateway.Chat.Jinja;

/// <summary>How rendering a node ended: normally, or at a <c>{% break %}</c> / <c>{% continue %}</c>.</summary>
public enum JinjaFlow { Normal, Break, Continue }

/// <summary>A statement of a parsed template.</summary>
public abstract record JinjaNode
{
    public abstract JinjaFlow Render(JinjaScope scope, StringBuilder output);

    public static JinjaFlow RenderAll(IReadOnlyList<JinjaNode> nodes, JinjaScope scope, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            var flow = node.Render(scope, output);
            if (flow != JinjaFlow.Normal) return flow;
        }
        return JinjaFlow.Normal;
    }
}

public sealed record TextNode(string Text) : JinjaNode
{
    public override JinjaFlow Render(JinjaScope scope, StringBuilder output)
    {
        output.Append(Text);
        return JinjaFlow.Normal;
    }
}

public sealed record OutputNode(JinjaExpression Expression) : JinjaNode
{
    public override JinjaFlow Render(JinjaScope scope, StringBuilder output)
    {
        output.Append(JinjaValues.Render(Expression.Evaluate(scope)));
        return JinjaFlow.Normal;
    }
}

public sealed record IfNode(IReadOnlyList<(JinjaExpression Condition, IReadOnlyList<JinjaNode> Body)> Branches,
    IReadOnlyList<JinjaNode> Else) : JinjaNode
{
    public override JinjaFlow Render(JinjaScope scope, StringBuilder output)
    {
        foreach (var (condition, body) in Branches)
        {
            if (JinjaValues.IsTrue(condition.Evaluate(scope))) return RenderAll(body, scope, output);
        }
        return RenderAll(Else, scope, output);
    }
}

/// <summary><c>{% for a[, b] in items [if condition] %}</c> with Jinja's <c>loop</c> variable.</summary>
public sealed record ForNode(IReadOnlyList<string> Targets, JinjaExpression Items, JinjaExpression? Filter,
    IReadOnlyList<JinjaNode> Body, IReadOnlyList<JinjaNode> Else) : JinjaNode
{
    public override JinjaFlow Render(JinjaScope scope, StringBuilder output)
    {
        var items = JinjaBuiltins.AsList(Items.Evaluate(scope));
        if (Filter is not null)
        {
            items = items.Where(item =>
            {
                var probe = new JinjaScope(scope);
                Bind(probe, item);
                return JinjaValues.IsTrue(Filter.Evaluate(probe));
            }).ToList();
        }
        if (items.Count == 0) return RenderAll(Else, scope, output);
        for (int i = 0; i < items.Count; i++)
        {
            var body = new JinjaScope(scope);
            Bind(body, items[i]);
            body.Set("loop", new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["index0"] = (long)i,
                ["index"] = (long)i + 1,
                ["revindex0"] = (long)(items.Count - i - 1),
                ["revindex"] = (long)(items.Count - i),
                ["first"] = i == 0,
                ["last"] = i == items.Count - 1,
                ["length"] = (long)items.Count,
                ["previtem"] = i > 0 ? items[i - 1] : JinjaUndefined.Instance,
                ["nextitem"] = i + 1 < items.Count ? items[i + 1] : JinjaUndefined.Instance,
            });
            if (RenderAll(Body, body, output) == JinjaFlow.Break) break;
        }
        return JinjaFlow.Normal;
    }

    private void Bind(JinjaScope scope, object? item)
    {
        if (Targets.Count == 1)
        {
            scope.Set(Targets[0], item);
            return;
        }
        var parts = JinjaBuiltins.AsList(item);
        if (parts.Count != Targets.Count)
            throw new JinjaException($"cannot unpack {parts.Count} values into {Targets.Count} names");
        for (int i = 0; i < Targets.Count; i++) scope.Set(Targets[i], parts[i]);
    }
}

/// <summary><c>{% set name = value %}</c> or <c>{% set ns.attribute = value %}</c>.</summary>
public sealed record SetNode(string Name, string? Attribute, JinjaExpression Value) : JinjaNode
{
    public override JinjaFlow Render(JinjaScope scope, StringBuilder output)
    {
        object? value = Value.Evaluate(scope);
        if (Attribute is null)
            scope.Set(Name, value);
        else if (scope.Get(Name) is JinjaNamespace ns)
            ns[Attribute] = value;
        else
            throw new JinjaException($"cannot set an attribute of '{Name}', which is not a namespace");
        return JinjaFlow.Normal;
    }
}

public sealed record LoopControlNode(JinjaFlow Flow) : JinjaNode
{
    public override JinjaFlow Render(JinjaScope scope, StringBuilder output) => Flow;
}
