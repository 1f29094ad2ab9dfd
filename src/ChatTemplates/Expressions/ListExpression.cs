using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Expressions;

public sealed record ListExpression(IReadOnlyList<JinjaExpression> Items) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => Items.Select(i => i.Evaluate(scope)).ToList();
}
