namespace PdServe.TestSupport;

/// <summary>A [Fact] reported as skipped when a file (path relative to the repository root) is absent.</summary>
public sealed class RequiresRepoFileFactAttribute : FactAttribute
{
    public RequiresRepoFileFactAttribute(string relativePath)
    {
        string? path = RepoPaths.InRepo(relativePath);
        if (path is null || !File.Exists(path))
            Skip = $"{relativePath} not found (generated locally; see scripts/tokenizer-fixtures/README.md)";
    }
}
