namespace PdServe.Cli.Cluster;

/// <summary>The model <c>pdserve up</c> serves when no <c>--model</c> is given.</summary>
public static class DefaultModel
{
    /// <summary>Relative to the repository root (or, in a published build, to the folder holding pdserve).</summary>
    public const string RelativePath = "models/kjv-llama";

    /// <summary>The first existing candidate: under the repository that holds this build, then beside the binary.</summary>
    public static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, RelativePath);
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }
}
