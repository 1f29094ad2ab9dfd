using System.Text;
using PdServe.ChatTemplates.Expressions;
using PdServe.ChatTemplates.Runtime;
using PdServe.ChatTemplates.Errors;

namespace PdServe.ChatTemplates.Statements;

/// <summary><c>{% for a[, b] in items [if condition] %}</c> with Jinja's <c>loop</c> variable.</summary>
public sealed record ForNode(IReadOnlyList<string> Targets, JinjaExpression Items, JinjaExpression? Filter,
    IReadOnlyList<JinjaNode> Body, IReadOnlyList<JinjaNode> Else) : JinjaNode
{
    public override JinjaFlow Render(JinjaScope scope, StringBuilder output)
    {
        var items = JinjaValues.AsList(Items.Evaluate(scope));
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
        var parts = JinjaValues.AsList(item);
        if (parts.Count != Targets.Count)
            throw new JinjaException($"cannot unpack {parts.Count} values into {Targets.Count} names");
        for (int i = 0; i < Targets.Count; i++) scope.Set(Targets[i], parts[i]);
    }
}
