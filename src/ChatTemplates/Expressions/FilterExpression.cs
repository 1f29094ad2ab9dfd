using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Expressions;

/// <summary><c>value | name(args)</c>.</summary>
public sealed record FilterExpression(JinjaExpression Target, string Name, IReadOnlyList<JinjaExpression> Args,
    IReadOnlyList<(string Name, JinjaExpression Value)> Kwargs) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) =>
        JinjaFilters.Apply(Name, Target.Evaluate(scope), Args.Select(a => a.Evaluate(scope)).ToList(),
            Kwargs.ToDictionary(k => k.Name, k => k.Value.Evaluate(scope), StringComparer.Ordinal));
}
