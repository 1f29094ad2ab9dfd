namespace PdServe.TestSupport;

/// <summary>The real pretrained checkpoint in ../shared/models, used to prove the engine's numerics.</summary>
public static class SharedModels
{
    public const string Stories260k = "stories260k";

    /// <summary>Where stories260k is expected; it may be absent (a fresh clone elsewhere).</summary>
    public static string Stories260kPath => RepoPaths.SharedModel(Stories260k)
        ?? Path.Combine(AppContext.BaseDirectory, "shared", "models", Stories260k);
}
