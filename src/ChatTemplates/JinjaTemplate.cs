using System.Text;
using PdServe.ChatTemplates.Errors;
using PdServe.ChatTemplates.Runtime;
using PdServe.ChatTemplates.Statements;
using PdServe.ChatTemplates.Syntax;

namespace PdServe.ChatTemplates;

/// <summary>
/// A parsed Jinja template, the subset Hugging Face chat templates use (see <see cref="JinjaParser"/> and
/// <see cref="JinjaFilters"/>, <see cref="JinjaMembers"/>). Hand-written: the maintained .NET template engines on NuGet (Fluid, Scriban)
/// implement Liquid, whose syntax and semantics differ from Jinja's (no <c>raise_exception</c>, <c>namespace</c>, <c>~</c>,
/// Python string methods, slices), and no maintained Jinja engine for .NET is known.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly IReadOnlyList<JinjaNode> nodes;

    private JinjaTemplate(IReadOnlyList<JinjaNode> nodes) => this.nodes = nodes;

    /// <exception cref="JinjaException">The template uses syntax outside the subset (the message names line and column).</exception>
    public static JinjaTemplate Parse(string source) => new(JinjaParser.Parse(source));

    /// <exception cref="JinjaException">Rendering failed (an unsupported filter, a type error).</exception>
    /// <exception cref="JinjaRaisedException">The template refused the input with raise_exception.</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        var scope = new JinjaScope(null);
        foreach (var (name, value) in variables) scope.Set(name, value);
        var output = new StringBuilder();
        JinjaNode.RenderAll(nodes, scope, output);
        return output.ToString();
    }
}
