using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Expressions;

/// <summary><c>a[b]</c> and <c>a[start:stop:step]</c>.</summary>
public sealed record SubscriptExpression(JinjaExpression Target, JinjaExpression? Index,
    JinjaExpression? Start, JinjaExpression? Stop, JinjaExpression? Step, bool IsSlice) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope)
    {
        object? target = Target.Evaluate(scope);
        if (!IsSlice) return JinjaMembers.GetItem(target, Index!.Evaluate(scope));
        return JinjaMembers.Slice(target, Start?.Evaluate(scope), Stop?.Evaluate(scope), Step?.Evaluate(scope));
    }
}
