using Microsoft.AspNetCore.Builder;

namespace PdServe.NodeHosting;

/// <summary>
/// A started node: its addresses (with the ports actually bound), readiness, and a stop that lets in-flight requests
/// finish. Disposing stops it too, so tests that fail still free the port.
/// </summary>
public sealed class RunningNode : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly IAsyncDisposable? resources;
    private bool stopped;

    private RunningNode(WebApplication app, NodeReadiness readiness, NodeListeners listeners, IAsyncDisposable? resources)
    {
        this.app = app;
        this.resources = resources;
        Readiness = readiness;
        Address = NodeListeners.UriOf(listeners.Grpc ?? throw new InvalidOperationException("the node has no gRPC endpoint"));
        HttpAddress = listeners.Http is { } http ? NodeListeners.UriOf(http) : null;
    }

    /// <summary>http://host:port/ of the node's HTTP/2 port: gRPC, /healthz, /load, /metrics (HTTP/2 prior knowledge).</summary>
    public Uri Address { get; }

    /// <summary>http://host:port/ of the HTTP/1.1 port for /healthz, /load, /metrics, when one was asked for.</summary>
    public Uri? HttpAddress { get; }

    public NodeReadiness Readiness { get; }
    public IServiceProvider Services => app.Services;

    /// <summary>Starts <paramref name="app"/>; <paramref name="resources"/> are disposed after it stops.</summary>
    public static async Task<RunningNode> StartAsync(WebApplication app, NodeReadiness readiness, NodeListeners listeners,
        IAsyncDisposable? resources, CancellationToken cancellation = default)
    {
        await app.StartAsync(cancellation);
        return new RunningNode(app, readiness, listeners, resources);
    }

    /// <summary>Stops accepting requests and waits for in-flight ones (up to the shutdown timeout, or until <paramref name="cancellation"/>).</summary>
    public async Task StopAsync(CancellationToken cancellation = default)
    {
        if (stopped) return;
        stopped = true;
        await app.StopAsync(cancellation);
        if (resources is not null) await resources.DisposeAsync();
    }

    /// <summary>Completes when the host is asked to stop (Ctrl+C, SIGTERM).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellation = default) => app.WaitForShutdownAsync(cancellation);

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await app.DisposeAsync();
    }
}
