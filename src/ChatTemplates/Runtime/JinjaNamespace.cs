namespace PdServe.ChatTemplates.Runtime;

/// <summary>The object <c>namespace(...)</c> makes: attributes that a loop body can set and the outside can read.</summary>
public sealed class JinjaNamespace : Dictionary<string, object?>
{
    public JinjaNamespace() : base(StringComparer.Ordinal) { }
}
