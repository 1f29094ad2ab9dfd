using System.Text;
using PdServe.ChatTemplates.Expressions;
using PdServe.ChatTemplates.Runtime;
using PdServe.ChatTemplates.Errors;

namespace PdServe.ChatTemplates.Statements;

/// <summary><c>{% set name = value %}</c> or <c>{% set ns.attribute = value %}</c>.</summary>
public sealed record SetNode(string Name, string? Attribute, JinjaExpression Value) : JinjaNode
{
    public override JinjaFlow Render(JinjaScope scope, StringBuilder output)
    {
        object? value = Value.Evaluate(scope);
        if (Attribute is null)
            scope.Set(Name, value);
        else if (scope.Get(Name) is JinjaNamespace ns)
            ns[Attribute] = value;
        else
            throw new JinjaException($"cannot set an attribute of '{Name}', which is not a namespace");
        return JinjaFlow.Normal;
    }
}
