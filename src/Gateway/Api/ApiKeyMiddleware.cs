using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace PdServe.Gateway.Api;

/// <summary>
/// Requires <c>Authorization: Bearer KEY</c> with one of <see cref="ApiKeyOptions.ApiKeys"/> on every <c>/v1</c> path
/// and on the operational endpoints <c>/pools</c> and <c>/metrics</c> (those unless
/// <see cref="ApiKeyOptions.OpenOperationalEndpoints"/>); none when no keys are configured. <c>/healthz</c> is always
/// open, for probes. Keys are compared in constant time.
/// </summary>
public sealed class ApiKeyMiddleware(RequestDelegate next, IOptionsMonitor<ApiKeyOptions> options)
{
    private const string Scheme = "Bearer ";

    public Task InvokeAsync(HttpContext context)
    {
        var current = options.CurrentValue;
        var keys = current.ApiKeys;
        if (keys.Count == 0 || !Protected(context.Request.Path, current)) return next(context);
        string header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
            throw ApiException.Unauthorized("Missing API key: send 'Authorization: Bearer YOUR_KEY'");
        byte[] presented = Encoding.UTF8.GetBytes(header[Scheme.Length..].Trim());
        bool known = false;
        foreach (string key in keys)
            known |= CryptographicOperations.FixedTimeEquals(presented, Encoding.UTF8.GetBytes(key));
        if (!known) throw ApiException.Unauthorized("Incorrect API key");
        return next(context);
    }

    private static bool Protected(PathString path, ApiKeyOptions options) =>
        path.StartsWithSegments("/v1")
        || (!options.OpenOperationalEndpoints && (path.StartsWithSegments("/pools") || path.StartsWithSegments("/metrics")));
}
