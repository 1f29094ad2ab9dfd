namespace PdServe.ChatTemplates.Runtime;

/// <summary>Variables visible at a point of the template; a for-loop body gets a child scope, as in Jinja.</summary>
public sealed class JinjaScope(JinjaScope? parent)
{
    private readonly JinjaScope? parent = parent;
    private readonly Dictionary<string, object?> variables = new(StringComparer.Ordinal);

    public object? Get(string name)
    {
        for (JinjaScope? scope = this; scope is not null; scope = scope.parent)
        {
            if (scope.variables.TryGetValue(name, out var value)) return value;
        }
        return JinjaGlobals.All.TryGetValue(name, out var function) ? function : JinjaUndefined.Instance;
    }

    public void Set(string name, object? value) => variables[name] = value;
}
