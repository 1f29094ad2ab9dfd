using PdServe.ChatTemplates.Runtime;

namespace PdServe.ChatTemplates.Expressions;

/// <summary>An expression inside a tag; evaluates to a template value.</summary>
public abstract record JinjaExpression
{
    public abstract object? Evaluate(JinjaScope scope);
}
