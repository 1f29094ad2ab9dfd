using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Expressions;

/// <summary><c>a if condition else b</c>.</summary>
public sealed record ConditionalExpression(JinjaExpression Condition, JinjaExpression Then, JinjaExpression? Else)
    : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) =>
        JinjaValues.IsTrue(Condition.Evaluate(scope)) ? Then.Evaluate(scope) : Else?.Evaluate(scope) ?? JinjaUndefined.Instance;
}
