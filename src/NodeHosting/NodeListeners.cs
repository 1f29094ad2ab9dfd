using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace PdServe.NodeHosting;

/// <summary>The node's Kestrel endpoints, kept so the ports actually bound (port 0) can be read after start.</summary>
public sealed class NodeListeners
{
    public ListenOptions? Grpc { get; set; }
    public ListenOptions? Http { get; set; }

    public static Uri UriOf(ListenOptions listen) => new($"http://{FormatHost(listen.IPEndPoint!)}/");

    private static string FormatHost(IPEndPoint endpoint) =>
        endpoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]:{endpoint.Port}" : $"{endpoint.Address}:{endpoint.Port}";
}
