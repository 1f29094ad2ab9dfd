using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Expressions;

public sealed record NameExpression(string Name) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => scope.Get(Name);
}
