using System.Text.Json;

namespace PdServe.Gateway.Api;

/// <summary>Server-sent events as OpenAI streams them: <c>data: {json}</c> per chunk, <c>data: [DONE]</c> at the end.</summary>
public sealed class SseWriter(HttpResponse response)
{
    public static void Start(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        // Tells nginx-style proxies in front of the gateway not to buffer the stream.
        response.Headers["X-Accel-Buffering"] = "no";
    }

    public async Task WriteAsync<T>(T chunk, CancellationToken cancellationToken)
    {
        await response.WriteAsync("data: ", cancellationToken);
        await JsonSerializer.SerializeAsync(response.Body, chunk, GatewayJson.Options, cancellationToken);
        await response.WriteAsync("\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    public async Task WriteDoneAsync(CancellationToken cancellationToken)
    {
        await response.WriteAsync("data: [DONE]\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
