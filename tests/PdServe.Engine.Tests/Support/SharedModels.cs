namespace PdServe.Engine.Tests.Support;

/// <summary>
/// Fetched models under ../shared/models beside the repository root (never committed). The root is found by walking
/// up from the test binaries to the directory holding PdServe.sln.
/// </summary>
public static class SharedModels
{
    private static readonly Lazy<string?> RepoRootLazy = new(FindRepoRoot);

    /// <summary>The directory holding PdServe.sln, or null when the tests run outside a checkout.</summary>
    public static string? RepoRoot => RepoRootLazy.Value;

    /// <summary>Where stories260k is expected (../shared/models/stories260k from the repository root); it may be absent.</summary>
    public static string Stories260kPath =>
        Path.GetFullPath(Path.Combine(RepoRoot ?? AppContext.BaseDirectory, "..", "shared", "models", "stories260k"));

    /// <summary>Whether stories260k is there with its config and weights.</summary>
    public static bool Stories260kPresent =>
        File.Exists(Path.Combine(Stories260kPath, "config.json"))
        && File.Exists(Path.Combine(Stories260kPath, "model.safetensors"));

    private static string? FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PdServe.sln"))) return dir.FullName;
        }
        return null;
    }
}
