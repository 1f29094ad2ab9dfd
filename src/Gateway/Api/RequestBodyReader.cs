using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace PdServe.Gateway.Api;

/// <summary>Reads a request body as one JSON object within the body-size limit; anything else is a 400 or 413.</summary>
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

        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, ParseOptions, context.RequestAborted);
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
