using System.Text;
using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Statements;

/// <summary>A statement of a parsed template.</summary>
public abstract record JinjaNode
{
    public abstract JinjaFlow Render(JinjaScope scope, StringBuilder output);

    public static JinjaFlow RenderAll(IReadOnlyList<JinjaNode> nodes, JinjaScope scope, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            var flow = node.Render(scope, output);
            if (flow != JinjaFlow.Normal) return flow;
        }
        return JinjaFlow.Normal;
    }
}
