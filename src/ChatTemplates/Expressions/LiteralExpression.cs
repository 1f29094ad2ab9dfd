using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Expressions;

public sealed record LiteralExpression(object? Value) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => Value;
}
