namespace PdServe.Gateway.Api;

/// <summary>
/// Turns every failure of a request into OpenAI's error JSON: those <see cref="ApiException.From"/> knows with their
/// own status, Kestrel's body-size and bad-request errors as 413/400, anything else as a 500 that names no internals.
/// A response that has already started (a stream) is left to the streaming code, which sends an error event.
/// </summary>
public sealed class ApiErrorMiddleware(RequestDelegate next, ILogger<ApiErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            ApiException? known = ApiException.From(e) ?? e switch
            {
                BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                    ApiException.TooLarge("Request body too large"),
                BadHttpRequestException bad => ApiException.InvalidBody($"Bad request: {bad.Message}"),
                _ => null,
            };
            if (known is null)
                logger.LogError(e, "Unhandled error on {Path}", context.Request.Path);
            var error = known ?? new ApiException(StatusCodes.Status500InternalServerError, $"Internal error (request {context.TraceIdentifier})", "server_error");
            await WriteAsync(context, error);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing is left to tell it.
        }
    }

    public static async Task WriteAsync(HttpContext context, ApiException error)
    {
        context.Response.Clear();
        context.Response.StatusCode = error.Status;
        if (error.RetryAfterSeconds is { } seconds)
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (error.Status == StatusCodes.Status401Unauthorized)
            context.Response.Headers.WWWAuthenticate = "Bearer";
        await context.Response.WriteAsJsonAsync(ErrorResponse.From(error), GatewayJson.Options, context.RequestAborted);
    }
}
