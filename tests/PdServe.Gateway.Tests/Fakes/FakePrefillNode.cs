using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace PdServe.Gateway.Tests.Fakes;

/// <summary>
/// A prefill node as the gateway sees it: an h2c server on 127.0.0.1 with <c>/healthz</c> and <c>/load</c>. The gateway
/// only passes its address to the decode node, so nothing else is needed.
/// </summary>
public sealed class FakePrefillNode : IAsyncDisposable
{
    private readonly WebApplication app;

    private FakePrefillNode(WebApplication app) => this.app = app;

    public string Address { get; private set; } = "";
    public bool Healthy { get; set; } = true;
    /// <summary>What <c>/load</c> reports as running requests (the prefix-affinity policy's load bound reads it).</summary>
    public int ReportedRunning { get; set; }

    public static async Task<FakePrefillNode> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        var node = new FakePrefillNode(app);
        app.MapGet("/healthz", () => node.Healthy ? Results.Ok("ok") : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        app.MapGet("/load", () => Results.Json(new { running = node.ReportedRunning, waiting = 0, kv_usage = 0.0 }));
        await app.StartAsync();
        node.Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return node;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync(new CancellationToken(canceled: true));
        await app.DisposeAsync();
    }
}
