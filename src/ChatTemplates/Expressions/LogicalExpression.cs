using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Expressions;

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
