namespace PdServe.Deploy.Tests;

/// <summary>One object of a manifest file, loaded into its typed model, and the file it came from.</summary>
public sealed record Manifest(string File, object Value)
{
    public override string ToString() => $"{RepoLayout.Relative(File)}: {Value.GetType().Name}";
}
