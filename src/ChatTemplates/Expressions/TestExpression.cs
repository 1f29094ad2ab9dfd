using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Expressions;

/// <summary><c>value is [not] name(args)</c>.</summary>
public sealed record TestExpression(JinjaExpression Target, string Name, IReadOnlyList<JinjaExpression> Args, bool Negated)
    : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) =>
        JinjaIsTests.Apply(Name, Target.Evaluate(scope), Args.Select(a => a.Evaluate(scope)).ToList()) != Negated;
}
