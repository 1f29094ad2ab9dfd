namespace PdServe.ChatTemplates.Runtime;

/// <summary>A callable value: a global function, or a bound string/dict method.</summary>
public delegate object? JinjaFunction(IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs);
