using PdServe.ChatTemplates.Runtime;
using PdServe.ChatTemplates.Errors;

namespace PdServe.ChatTemplates.Expressions;

public sealed record CallExpression(JinjaExpression Target, IReadOnlyList<JinjaExpression> Args,
    IReadOnlyList<(string Name, JinjaExpression Value)> Kwargs) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope)
    {
        if (Target.Evaluate(scope) is not JinjaFunction function)
            throw new JinjaException($"{Describe(Target)} is not callable");
        return function(Args.Select(a => a.Evaluate(scope)).ToList(),
            Kwargs.ToDictionary(k => k.Name, k => k.Value.Evaluate(scope), StringComparer.Ordinal));
    }

    private static string Describe(JinjaExpression e) => e switch
    {
        NameExpression n => n.Name,
        AttributeExpression a => a.Name,
        _ => "the value",
    };
}
