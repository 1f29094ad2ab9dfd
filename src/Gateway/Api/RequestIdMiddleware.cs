namespace PdServe.Gateway.Api;

/// <summary>
/// Gives every request one id that the gateway's logs, the node calls it makes and the response share: the client's
/// <c>x-request-id</c> when it is a sane token, else a fresh one. It becomes <see cref="HttpContext.TraceIdentifier"/>
/// (ASP.NET's log scopes carry it) and is returned in <c>x-request-id</c>, on errors too.
/// </summary>
public sealed class RequestIdMiddleware(RequestDelegate next)
{
    public const string Header = "x-request-id";
    private const int MaxLength = 128;

    public Task InvokeAsync(HttpContext context)
    {
        string id = context.Request.Headers[Header].ToString() is var given && IsSane(given) ? given : Guid.NewGuid().ToString("N");
        context.TraceIdentifier = id;
        // Set as the headers go out: an error response clears the headers set before it.
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[Header] = id;
            return Task.CompletedTask;
        });
        return next(context);
    }

    /// <summary>Ids end up in logs, gRPC metadata and response ids: only short tokens of unambiguous characters pass.</summary>
    public static bool IsSane(string id) =>
        id.Length is > 0 and <= MaxLength && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');
}
