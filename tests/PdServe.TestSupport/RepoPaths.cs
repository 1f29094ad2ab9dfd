namespace PdServe.TestSupport;

/// <summary>
/// Locates the repository root (the folder holding PdServe.sln, found by walking up from the test binaries) and
/// the shared/ folder beside it, where fetched models live — never committed.
/// </summary>
public static class RepoPaths
{
    private static readonly Lazy<string?> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PdServe.sln"))) return dir.FullName;
        }
        return null;
    });

    /// <summary>The repository root, or null when the tests run outside a checkout.</summary>
    public static string? RepoRoot => Root.Value;

    /// <summary>../shared relative to the repository root.</summary>
    public static string? SharedDirectory =>
        RepoRoot is null ? null : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>shared/models/<paramref name="name"/>, or null when the repository root is unknown.</summary>
    public static string? SharedModel(string name) =>
        SharedDirectory is null ? null : Path.Combine(SharedDirectory, "models", name);

    /// <summary>A path inside the repository, or null when the repository root is unknown.</summary>
    public static string? InRepo(string relativePath) => RepoRoot is null ? null : Path.Combine(RepoRoot, relativePath);
}
