namespace PdServe.Gateway.Api;

/// <summary>
/// A request the gateway refuses, carrying what OpenAI's error JSON needs: the HTTP status, the error type, the
/// offending parameter (for 400s) and a short code. Thrown anywhere in a request; the error middleware writes it.
/// </summary>
public sealed class ApiException(int status, string message, string type, string? param = null, string? code = null)
    : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;
    public string? Code { get; } = code;
    /// <summary>Seconds the client should wait before retrying (429 and 503).</summary>
    public int? RetryAfterSeconds { get; init; }

    public static ApiException InvalidField(string param, string message) =>
        new(StatusCodes.Status400BadRequest, message, "invalid_request_error", param, "invalid_value");

    public static ApiException InvalidBody(string message) =>
        new(StatusCodes.Status400BadRequest, message, "invalid_request_error", null, "invalid_json");

    public static ApiException TooLarge(string message, string? param = null) =>
        new(StatusCodes.Status413PayloadTooLarge, message, "invalid_request_error", param, "request_too_large");

    public static ApiException Unauthorized(string message) =>
        new(StatusCodes.Status401Unauthorized, message, "invalid_request_error", null, "invalid_api_key");

    public static ApiException UnknownModel(string model) =>
        new(StatusCodes.Status404NotFound, $"The model '{model}' does not exist", "invalid_request_error", "model", "model_not_found");

    public static ApiException NotFound(string message) =>
        new(StatusCodes.Status404NotFound, message, "invalid_request_error", null, "not_found");

    public static ApiException Overloaded(string message) =>
        new(StatusCodes.Status429TooManyRequests, message, "server_overloaded", null, "overloaded") { RetryAfterSeconds = 1 };

    public static ApiException NoHealthyNode(string pool) =>
        new(StatusCodes.Status503ServiceUnavailable, $"No healthy node in the {pool} pool", "service_unavailable", null,
            "no_healthy_node") { RetryAfterSeconds = 1 };

    public static ApiException NodeFailed(int status, string message) =>
        new(status, message, status == StatusCodes.Status400BadRequest ? "invalid_request_error" : "server_error", null,
            "node_failed");
}
