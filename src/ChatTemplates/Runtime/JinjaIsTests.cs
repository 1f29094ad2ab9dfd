using System.Collections;
using PdServe.ChatTemplates.Errors;

namespace PdServe.ChatTemplates.Runtime;

/// <summary>The tests of <c>value is [not] name(args)</c> that chat templates use; any other fails naming it.</summary>
public static class JinjaIsTests
{
    public static bool Apply(string name, object? value, IReadOnlyList<object?> args) => name switch
    {
        "defined" => value is not JinjaUndefined,
        "undefined" => value is JinjaUndefined,
        "none" => value is null,
        "string" => value is string,
        "number" => value is long or double,
        "integer" => value is long,
        "float" => value is double,
        "boolean" => value is bool,
        "true" => value is true,
        "false" => value is false,
        "mapping" => value is IDictionary,
        "sequence" or "iterable" => value is string or IList or IDictionary,
        "odd" => JinjaValues.AsLong(value) % 2 != 0,
        "even" => JinjaValues.AsLong(value) % 2 == 0,
        "divisibleby" => JinjaValues.AsLong(value) % JinjaValues.AsLong(args[0]) == 0,
        "eq" or "equalto" or "sameas" => JinjaValues.Equals(value, args[0]),
        _ => throw new JinjaException($"unsupported test '{name}'"),
    };
}
