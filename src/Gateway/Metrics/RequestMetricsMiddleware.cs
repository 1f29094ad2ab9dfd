using System.Diagnostics;

namespace PdServe.Gateway.Metrics;

/// <summary>Counts every <c>/v1</c> request by route and status and times it to the end of its response.</summary>
public sealed class RequestMetricsMiddleware(RequestDelegate next, GatewayMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments("/v1"))
        {
            await next(context);
            return;
        }
        long started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            // The route template, not the path, so that arbitrary paths cannot grow the label set.
            string route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            metrics.Requests.WithLabels(route, context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
            metrics.RequestDuration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }
}
