using Microsoft.Extensions.DependencyInjection;
using PdServe.NodeHosting;

namespace PdServe.Decode;

/// <summary>Starts a decode node (see <see cref="NodeHost"/>).</summary>
public static class DecodeNodeHost
{
    /// <param name="services">Registers services in place of the node's defaults, e.g. another KV connector.</param>
    public static Task<RunningNode> StartAsync(DecodeNodeOptions options, Action<IServiceCollection>? services = null,
        CancellationToken cancellation = default) =>
        NodeHost.StartAsync<DecodeNode, DecodeGrpcService>(options, container => services?.Invoke(container), cancellation);
}
