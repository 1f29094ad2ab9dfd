using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PdServe.Contracts;
using PdServe.KvTransfer.Wire;
using PdServe.Telemetry;

namespace PdServe.NodeHosting;

/// <summary>
/// The ASP.NET Core host both nodes run: one cleartext HTTP/2 port (prior knowledge, h2c) serving gRPC, /healthz,
/// /load and /metrics, optionally a second HTTP/1.1 port for the last three; gRPC message limits set explicitly.
/// </summary>
public static class NodeWebHost
{
    public static WebApplicationBuilder CreateBuilder(NodeHostSettings settings, NodeListeners listeners)
    {
        if (!IPAddress.TryParse(settings.Host, out IPAddress? address))
            throw new ArgumentException($"--host must be an IP address, got '{settings.Host}'");
        if (settings.Port is < 0 or > 65535) throw new ArgumentException($"--port must be in 0..65535, got {settings.Port}");
        if (settings.HttpPort is < 0 or > 65535) throw new ArgumentException($"--http-port must be in 0..65535, got {settings.HttpPort}");
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        // Logs go to stderr; stdout carries only what the command itself prints.
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(settings.MinimumLogLevel);
        // Kestrel's own connection chatter stays out of the node's log unless something is wrong.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(address, settings.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listeners.Grpc = listen;
            });
            if (settings.HttpPort is { } httpPort)
            {
                kestrel.Listen(address, httpPort, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    listeners.Http = listen;
                });
            }
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ShutdownTimeout);
        if (settings.Tracing is { } tracing) builder.Services.AddPdServeTracing(tracing);
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = MessageLimits.MaxMessageBytes;
            grpc.MaxSendMessageSize = MessageLimits.MaxMessageBytes;
            if (settings.NodeToken is { } token) grpc.Interceptors.Add<NodeTokenInterceptor>(token);
        });
        return builder;
    }

    /// <summary>/healthz (503 until the model is loaded), /load (JSON) and /metrics (Prometheus text).</summary>
    public static void MapNodeEndpoints(WebApplication app, NodeReadiness readiness, Func<LoadReport> load, NodeMetrics metrics)
    {
        app.MapGet("/healthz", () => readiness.IsReady
            ? Results.Text("ok\n")
            : Results.Text(readiness.Loaded.IsFaulted ? "model failed to load\n" : "loading\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapGet("/load", () => Results.Json(load(), LoadReportJson.Default.LoadReport));
        app.MapGet("/metrics", async (HttpContext context) =>
        {
            LoadReport current = load();
            metrics.Publish(current);
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
            await context.Response.WriteAsync(VllmMetricsText.Of(current, metrics.ModelName), context.RequestAborted);
        });
    }
}
