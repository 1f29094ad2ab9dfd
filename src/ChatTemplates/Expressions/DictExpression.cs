using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Expressions;

public sealed record DictExpression(IReadOnlyList<(JinjaExpression Key, JinjaExpression Value)> Entries) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope)
    {
        var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in Entries) dict[JinjaValues.Render(key.Evaluate(scope))] = value.Evaluate(scope);
        return dict;
    }
}
