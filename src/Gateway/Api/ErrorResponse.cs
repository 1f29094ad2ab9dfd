using System.Text.Json.Serialization;

namespace PdServe.Gateway.Api;

/// <summary>OpenAI's error body: <c>{"error":{"message","type","param","code"}}</c>.</summary>
public sealed record ErrorResponse([property: JsonPropertyName("error")] ErrorBody Error)
{
    public static ErrorResponse From(ApiException e) => new(new ErrorBody(e.Message, e.Type, e.Param, e.Code));
}

public sealed record ErrorBody(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code);
