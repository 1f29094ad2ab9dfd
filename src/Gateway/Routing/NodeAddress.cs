namespace PdServe.Gateway.Routing;

/// <summary>Destination addresses as the gateway compares them: without a trailing slash, case-insensitively.</summary>
public static class NodeAddress
{
    public static string Normalize(string address) => address.TrimEnd('/').ToLowerInvariant();

    public static bool Same(string a, string b) => Normalize(a) == Normalize(b);
}
