using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PdServe.KvTransfer.Connector;

namespace PdServe.NodeHosting;

/// <summary>Builds and starts a node of either kind: `pdserve prefill|decode` run one, tests run them in-process on 127.0.0.1:0.</summary>
public static class NodeHost
{
    /// <summary>
    /// Starts listening at once (/healthz answers 503 while the model loads) and loads the model in the background;
    /// await <see cref="RunningNode.Readiness"/>.Loaded to know it is serving. The container holds
    /// <paramref name="options"/> (as its own type), the node and its gRPC service <typeparamref name="TService"/>;
    /// <paramref name="services"/> registers the node's own services first, so what it registers wins over the
    /// defaults (the <see cref="ChunkedKvConnector"/>).
    /// </summary>
    public static async Task<RunningNode> StartAsync<TNode, TService>(NodeOptions options, Action<IServiceCollection> services,
        CancellationToken cancellation = default)
        where TNode : ServingNode
        where TService : class
    {
        var listeners = new NodeListeners();
        WebApplicationBuilder builder = NodeWebHost.CreateBuilder(options.Host, listeners);
        builder.Services.AddSingleton(options.GetType(), options);
        services(builder.Services);
        builder.Services.TryAddSingleton<IKvConnector, ChunkedKvConnector>();
        builder.Services.AddSingleton<TNode>();
        WebApplication app = builder.Build();
        TNode node;
        try
        {
            node = app.Services.GetRequiredService<TNode>();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        app.MapGrpcService<TService>();
        NodeWebHost.MapNodeEndpoints(app, node.Readiness, () => node.Load, node.Metrics);
        RunningNode running = await RunningNode.StartAsync(app, node.Readiness, listeners, node, cancellation);
        _ = node.LoadAsync();
        return running;
    }
}
