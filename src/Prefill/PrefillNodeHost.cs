using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PdServe.NodeHosting;

namespace PdServe.Prefill;

/// <summary>Starts a prefill node (see <see cref="NodeHost"/>).</summary>
public static class PrefillNodeHost
{
    /// <param name="services">Registers services in place of the node's defaults, e.g. another <see cref="IPrefillStreamFilter"/>.</param>
    public static Task<RunningNode> StartAsync(PrefillNodeOptions options, Action<IServiceCollection>? services = null,
        CancellationToken cancellation = default) =>
        NodeHost.StartAsync<PrefillNode, PrefillGrpcService>(options, container =>
        {
            services?.Invoke(container);
            container.TryAddSingleton<IPrefillStreamFilter, PassThroughStreamFilter>();
        }, cancellation);
}
