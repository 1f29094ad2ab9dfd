using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Expressions;

/// <summary><c>a.b</c>: a mapping's key, else a method of the value (<c>.strip</c>, <c>.items</c>...).</summary>
public sealed record AttributeExpression(JinjaExpression Target, string Name) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => JinjaMembers.GetAttribute(Target.Evaluate(scope), Name);
}
