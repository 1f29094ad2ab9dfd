namespace PdServe.Engine.Tests.Support;

/// <summary>A fact that reports "skipped" when ../shared/models/stories260k is not present.</summary>
public sealed class RequiresSharedModelFactAttribute : FactAttribute
{
    public RequiresSharedModelFactAttribute()
    {
        if (!SharedModels.Stories260kPresent) Skip = "../shared/models/stories260k not present";
    }
}
