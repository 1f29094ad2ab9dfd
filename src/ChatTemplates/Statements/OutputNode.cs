using System.Text;
using PdServe.ChatTemplates.Expressions;
using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Statements;

public sealed record OutputNode(JinjaExpression Expression) : JinjaNode
{
    public override JinjaFlow Render(JinjaScope scope, StringBuilder output)
    {
        output.Append(JinjaValues.Render(Expression.Evaluate(scope)));
        return JinjaFlow.Normal;
    }
}
