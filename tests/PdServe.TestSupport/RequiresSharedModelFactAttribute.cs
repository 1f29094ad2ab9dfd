namespace PdServe.TestSupport;

/// <summary>
/// A [Fact] reported as skipped when shared/models/&lt;model&gt; is absent (xunit 2 has no dynamic skip, so the
/// attribute decides at discovery time).
/// </summary>
public sealed class RequiresSharedModelFactAttribute : FactAttribute
{
    public RequiresSharedModelFactAttribute(string model = SharedModels.Stories260k)
    {
        string? directory = RepoPaths.SharedModel(model);
        if (directory is null || !Directory.Exists(directory))
            Skip = $"shared model '{model}' not found (looked for {directory ?? "<repo root not found>/../shared/models/" + model})";
    }
}
