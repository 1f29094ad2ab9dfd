using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace PdServe.Telemetry;

/// <summary>
/// Registers OpenTelemetry tracing for one process when <see cref="TracingOptions.Enabled"/>: PdServe's sources,
/// ASP.NET Core's server spans (which read the caller's W3C <c>traceparent</c>, from a client or over gRPC metadata)
/// and HttpClient's client spans (which write it, so a gRPC call carries the trace to the next process). Polling
/// (health checks, /load, /metrics) is left out: it would bury the requests.
/// </summary>
public static class TracingServices
{
    private const string GrpcClientSource = "Grpc.Net.Client";
    private static readonly string[] PollingPaths = ["/healthz", "/load", "/metrics", "/pools"];

    public static IServiceCollection AddPdServeTracing(this IServiceCollection services, TracingOptions options)
    {
        if (!options.Enabled) return services;
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName))
            .WithTracing(tracing =>
            {
                tracing.SetSampler(new ParentBasedSampler(new AlwaysOnSampler()))
                    .AddSource(Spans.SourcePrefix + "*")
                    // grpc-dotnet's own client span sits between ours and HttpClient's: without it the chain breaks.
                    .AddSource(GrpcClientSource)
                    .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsPolling(context.Request.Path.Value))
                    .AddHttpClientInstrumentation(o => o.FilterHttpRequestMessage = request => !IsPolling(request.RequestUri?.AbsolutePath));
                if (options.OtlpEndpoint is not null) tracing.AddOtlpExporter();
                if (options.SpanLines || options.SpanSink is not null)
                    tracing.AddProcessor(new SimpleActivityExportProcessor(new SpanLineExporter(options.ServiceName, options.SpanLines, options.SpanSink)));
            });
        return services;
    }

    private static bool IsPolling(string? path) =>
        path is not null && PollingPaths.Any(p => path.Equals(p, StringComparison.OrdinalIgnoreCase));
}
