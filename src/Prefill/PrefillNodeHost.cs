using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using PdServe.NodeHosting;

namespace PdServe.Prefill;

/// <summary>Builds and starts a prefill node: `pdserve prefill` runs one, tests run them in-process on 127.0.0.1:0.</summary>
public static class PrefillNodeHost
{
    /// <summary>
    /// Starts listening at once (/healthz answers 503 while the model loads) and loads the model in the background;
    /// await <see cref="RunningNode.Readiness"/>.Loaded to know it is serving.
    /// </summary>
    public static async Task<RunningNode> StartAsync(PrefillNodeOptions options, CancellationToken cancellation = default)
    {
        var node = new PrefillNode(options);
        var listeners = new NodeListeners();
        WebApplicationBuilder builder = NodeWebHost.CreateBuilder(options.Host, listeners);
        builder.Services.AddSingleton(node);
        WebApplication app = builder.Build();
        app.MapGrpcService<PrefillGrpcService>();
        NodeWebHost.MapNodeEndpoints(app, node.Readiness, () => node.Load, node.Metrics);
        RunningNode running = await RunningNode.StartAsync(app, node.Readiness, listeners, node, cancellation);
        _ = node.LoadAsync();
        return running;
    }
}
