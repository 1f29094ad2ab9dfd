namespace PdServe.Engine.Tests.Support;

/// <summary>Locates the repository root (the folder holding PdServe.sln) and the shared/ folder beside it.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string?> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PdServe.sln"))) return dir.FullName;
        return null;
    });

    /// <summary>The repository root, or null when the tests run outside a checkout.</summary>
    public static string? RepoRoot => Root.Value;

    /// <summary>../shared relative to the repository root (pretrained test models live under shared/models).</summary>
    public static string? SharedDirectory => RepoRoot is null ? null : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>shared/models/<paramref name="name"/>, or null when the repository root is unknown.</summary>
    public static string? SharedModel(string name) => SharedDirectory is null ? null : Path.Combine(SharedDirectory, "models", name);

    /// <summary>A path inside the repository, or null when the repository root is unknown.</summary>
    public static string? InRepo(string relativePath) => RepoRoot is null ? null : Path.Combine(RepoRoot, relativePath);
}

/// <summary>
/// A [Fact] that is reported as skipped when shared/models/&lt;model&gt; is absent (xunit 2 has no
/// dynamic skip, so the attribute decides at discovery time).
/// </summary>
public sealed class RequiresSharedModelFactAttribute : FactAttribute
{
    public RequiresSharedModelFactAttribute(string model)
    {
        var dir = RepoPaths.SharedModel(model);
        if (dir is null || !Directory.Exists(dir))
            Skip = $"shared model '{model}' not found (looked for {dir ?? "<repo root not found>/../shared/models/" + model})";
    }
}

/// <summary>A [Fact] that is reported as skipped when a file (path relative to the repository root) is absent.</summary>
public sealed class RequiresRepoFileFactAttribute : FactAttribute
{
    public RequiresRepoFileFactAttribute(string relativePath)
    {
        var path = RepoPaths.InRepo(relativePath);
        if (path is null || !File.Exists(path))
            Skip = $"{relativePath} not found (generated locally; see scripts/tokenizer-fixtures/README.md)";
    }
}
