namespace PdServe.Gateway.Routing;

/// <summary>The YARP cluster ids of the two pools.</summary>
public static class NodePools
{
    public const string Prefill = "prefill";
    public const string Decode = "decode";
    public static readonly IReadOnlyList<string> All = [Prefill, Decode];
}
