namespace PdServe.ChatTemplates.Runtime;

/// <summary>A name the template reads but nobody defined: empty when printed, false when tested.</summary>
public sealed class JinjaUndefined
{
    public static readonly JinjaUndefined Instance = new();
    private JinjaUndefined() { }
}
