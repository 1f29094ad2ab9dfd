using System.Text.RegularExpressions;

namespace PdServe.Architecture.Tests;

/// <summary>
/// The C# sources of one project under src/, read as text: which types each folder declares and which of the
/// project's own types each folder's code names. A type counts as used when its name appears as an identifier
/// outside comments and string literals — implicit parent-namespace access and fully qualified names included,
/// which `using` directives alone would miss.
/// </summary>
public sealed partial class SourceTree
{
    private SourceTree(string project, IReadOnlyList<SourceFile> files)
    {
        Project = project;
        Files = files;
    }

    public string Project { get; }
    public IReadOnlyList<SourceFile> Files { get; }

    public sealed record SourceFile(string RelativePath, string Folder, string Code);

    public static SourceTree Read(string projectDirectory)
    {
        var files = Directory.EnumerateFiles(projectDirectory, "*.cs", SearchOption.AllDirectories)
            .Where(path => !IsBuildOutput(Path.GetRelativePath(projectDirectory, path)))
            .Order(StringComparer.Ordinal)
            .Select(path =>
            {
                string relative = Path.GetRelativePath(projectDirectory, path).Replace('\\', '/');
                string folder = Path.GetDirectoryName(relative)?.Replace('\\', '/') ?? "";
                return new SourceFile(relative, folder.Length == 0 ? "." : folder, StripCommentsAndStrings(File.ReadAllText(path)));
            })
            .ToList();
        return new SourceTree(Path.GetFileName(projectDirectory.TrimEnd('/')), files);
    }

    public IReadOnlyList<string> Folders => Files.Select(f => f.Folder).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>Type name → the one folder that declares it; names declared in two folders are left out as ambiguous.</summary>
    public IReadOnlyDictionary<string, string> DeclaringFolders()
    {
        var byName = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (SourceFile file in Files)
            foreach (Match match in TypeDeclaration().Matches(file.Code))
            {
                string name = match.Groups["name"].Value;
                if (!byName.TryGetValue(name, out var folders)) byName[name] = folders = [];
                folders.Add(file.Folder);
            }
        return byName.Where(pair => pair.Value.Count == 1).ToDictionary(pair => pair.Key, pair => pair.Value.Single(), StringComparer.Ordinal);
    }

    /// <summary>Folder → the other folders of this project whose types its code names, with one example each.</summary>
    public IReadOnlyDictionary<string, Dictionary<string, string>> FolderDependencies()
    {
        IReadOnlyDictionary<string, string> declaring = DeclaringFolders();
        var edges = Folders.ToDictionary(f => f, _ => new Dictionary<string, string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (SourceFile file in Files)
            foreach (Match match in Identifier().Matches(file.Code))
                if (declaring.TryGetValue(match.Value, out string? target) && target != file.Folder && !edges[file.Folder].ContainsKey(target)
                    && NamesAType(file.Code, match))
                    edges[file.Folder][target] = $"{file.RelativePath} names {match.Value}";
        return edges;
    }

    /// <summary>
    /// False for an identifier that cannot be a type there: a member after a dot (<c>HeldScalars.One</c>,
    /// <c>ScalarType.Int8</c>) or a method declared or called (<c>RmsNorm(</c>, not <c>new RmsNorm(</c>), which would
    /// otherwise tie a folder to another that merely declares a type of the same name.
    /// </summary>
    private static bool NamesAType(string code, Match identifier)
    {
        int before = identifier.Index - 1;
        if (before >= 0 && code[before] == '.') return false;
        int after = identifier.Index + identifier.Length;
        while (after < code.Length && code[after] == ' ') after++;
        if (after < code.Length && code[after] == '(')
            return NewBefore().IsMatch(code.AsSpan(0, identifier.Index));
        return true;
    }

    /// <summary>The namespaces this project's files import with `using`.</summary>
    public IEnumerable<(SourceFile File, string Namespace)> Usings() =>
        Files.SelectMany(file => UsingDirective().Matches(file.Code).Select(m => (file, m.Groups["ns"].Value)));

    private static bool IsBuildOutput(string relativePath)
    {
        string first = relativePath.Replace('\\', '/').Split('/')[0];
        return first is "bin" or "obj";
    }

    /// <summary>Blanks comments and string/char literals (keeping line breaks), so names in prose do not count as uses.</summary>
    private static string StripCommentsAndStrings(string code) =>
        CommentOrLiteral().Replace(code, m => m.Value.StartsWith("//", StringComparison.Ordinal) || m.Value.StartsWith("/*", StringComparison.Ordinal)
            ? new string(m.Value.Where(c => c == '\n').ToArray())
            : InterpolationHoles(m.Value));

    /// <summary>An interpolated string keeps what its holes name; the rest of a literal is dropped.</summary>
    private static string InterpolationHoles(string literal) =>
        literal.Contains('$') ? string.Join(' ', Hole().Matches(literal).Select(h => h.Value)) : "\"\"";

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/|\$?@?""""""[\s\S]*?""""""|\$?@""(?:[^""]|"""")*""|\$?""(?:[^""\\\n]|\\.)*""|'(?:[^'\\\n]|\\.)+'", RegexOptions.Singleline)]
    private static partial Regex CommentOrLiteral();

    [GeneratedRegex(@"\{[^{}]*\}")]
    private static partial Regex Hole();

    [GeneratedRegex(@"\b(?:class|record|struct|interface|enum)\s+(?:struct\s+|class\s+)?(?<name>[A-Z][A-Za-z0-9_]*)")]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"\b[A-Z][A-Za-z0-9_]*\b")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"\bnew\s+$")]
    private static partial Regex NewBefore();

    [GeneratedRegex(@"^\s*(?:global\s+)?using\s+(?:static\s+)?(?:[A-Za-z_][A-Za-z0-9_]*\s*=\s*)?(?<ns>[A-Za-z_][A-Za-z0-9_.]*)\s*;", RegexOptions.Multiline)]
    private static partial Regex UsingDirective();
}
