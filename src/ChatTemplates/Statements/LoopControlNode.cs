using System.Text;
using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Statements;

public sealed record LoopControlNode(JinjaFlow Flow) : JinjaNode
{
    public override JinjaFlow Render(JinjaScope scope, StringBuilder output) => Flow;
}
