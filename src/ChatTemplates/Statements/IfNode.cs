using System.Text;
using PdServe.ChatTemplates.Expressions;
using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Statements;

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
