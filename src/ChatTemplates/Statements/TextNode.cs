using System.Text;
using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Statements;

public sealed record TextNode(string Text) : JinjaNode
{
    public override JinjaFlow Render(JinjaScope scope, StringBuilder output)
    {
        output.Append(Text);
        return JinjaFlow.Normal;
    }
}
