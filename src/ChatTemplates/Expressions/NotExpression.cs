using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Expressions;

public sealed record NotExpression(JinjaExpression Operand) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => !JinjaValues.IsTrue(Operand.Evaluate(scope));
}
