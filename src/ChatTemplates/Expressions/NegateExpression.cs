using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Expressions;

public sealed record NegateExpression(JinjaExpression Operand) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => Operand.Evaluate(scope) switch
    {
        long l => (object)-l,
        var v => -JinjaValues.ToDouble(v),
    };
}
