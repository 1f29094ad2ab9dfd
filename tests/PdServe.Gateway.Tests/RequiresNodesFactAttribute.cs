using PdServe.TestSupport;

namespace PdServe.Gateway.Tests;

/// <summary>
/// A [Fact] reported as skipped until the real prefill and decode nodes (src/Prefill, src/Decode: the
/// <c>pdserve prefill</c> and <c>pdserve decode</c> commands) are part of the repository.
/// </summary>
public sealed class RequiresNodesFactAttribute : FactAttribute
{
    public RequiresNodesFactAttribute()
    {
        string? decode = RepoPaths.InRepo("src/Decode");
        string? prefill = RepoPaths.InRepo("src/Prefill");
        if (decode is null || prefill is null || !Directory.Exists(decode) || !Directory.Exists(prefill))
            Skip = "needs the real nodes: src/Prefill and src/Decode (pdserve prefill/decode) are not in this checkout yet";
    }
}
