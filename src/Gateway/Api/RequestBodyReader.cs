using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http.Features;

namespace PdServe.Gateway.Api;

/// <summary>
/// Reads a request body as one JSON object within the body-size limit; anything else is a 400 or 413. The body is
/// checked to be UTF-8 first: System.Text.Json only notices bad bytes inside a string when the string is read.
/// </summary>
public static class RequestBodyReader
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 32 };

    public static async Task<JsonDocument> ReadObjectAsync(HttpContext context, long maxBodyBytes)
    {
        if (context.Request.ContentLength > maxBodyBytes)
            throw ApiException.TooLarge($"Request body is {context.Request.ContentLength} bytes; the limit is {maxBodyBytes}");
        // Kestrel enforces this while streaming a body without Content-Length (chunked).
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
            sizeFeature.MaxRequestBodySize = maxBodyBytes;

        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        if (buffer.Length > maxBodyBytes)
            throw ApiException.TooLarge($"Request body is over the limit of {maxBodyBytes} bytes");
        var bytes = new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
        if (!Utf8.IsValid(bytes.Span))
            throw ApiException.InvalidBody("The body is not valid UTF-8");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes.ToArray(), ParseOptions);
        }
        catch (JsonException e)
        {
            throw ApiException.InvalidBody($"The body is not valid JSON: {e.Message}");
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw ApiException.InvalidBody("The body must be a JSON object");
        }
        return document;
    }
}
