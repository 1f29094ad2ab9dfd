namespace PdServe.Contracts;

/// <summary>
/// The shared secret inside a cluster: the gateway sends it on every call to a decode node, the decode node on every
/// call to a prefill node, and a node started with a token refuses calls without it (UNAUTHENTICATED).
/// </summary>
public static class NodeToken
{
    /// <summary>The gRPC metadata key that carries the token.</summary>
    public const string Header = "x-pdserve-token";

    /// <summary>The environment variable `pdserve up` sets for the node processes it starts.</summary>
    public const string EnvironmentVariable = "PDSERVE_NODE_TOKEN";

    /// <summary>The token from the environment, or null when none is set (a node then accepts every caller).</summary>
    public static string? FromEnvironment() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } token ? token : null;
}
