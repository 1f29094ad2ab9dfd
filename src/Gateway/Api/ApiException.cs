using PdServe.Gateway.Chat;
using PdServe.Gateway.Generation;
using PdServe.Gateway.Routing;

namespace PdServe.Gateway.Api;

/// <summary>
/// A request the gateway refuses, carrying what OpenAI's error JSON needs: the HTTP status, the error type, the
/// offending parameter (for 400s) and a short code. Thrown by the API's own checks; the failures of routing,
/// generation and chat templates become one in <see cref="From"/>. The error middleware writes it.
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

    /// <summary>
    /// What the client is told of a failure: an <see cref="ApiException"/> as it is, the routing, generation and chat
    /// template failures as their status and code; null for anything else, which is an internal error.
    /// </summary>
    public static ApiException? From(Exception e) => e switch
    {
        ApiException api => api,
        NoHealthyNodeException noNode => NoHealthyNode(noNode.Pool),
        GenerationException generation => generation.Failure switch
        {
            GenerationFailure.Overloaded => Overloaded(generation.Message),
            GenerationFailure.RequestRefused => InvalidRequest(generation.Message),
            GenerationFailure.NodeUnreachable => NodeUnreachable(generation.Message),
            GenerationFailure.NodeUnavailable => NodeUnavailable(generation.Message),
            _ => NodeFailed(generation.Message),
        },
        MessagesRefusedException refused => InvalidField("messages", refused.Message),
        ChatTemplateFailedException failed =>
            new(StatusCodes.Status500InternalServerError, failed.Message, "server_error", null, "chat_template_failed"),
        _ => null,
    };

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

    /// <summary>A node refused the request for the request's own reason (a value it cannot serve, non-finite logits).</summary>
    public static ApiException InvalidRequest(string message) =>
        new(StatusCodes.Status400BadRequest, message, "invalid_request_error", null, "invalid_request");

    /// <summary>The decode node's connection broke after the client already received output, so no retry was possible.</summary>
    public static ApiException NodeUnreachable(string message) =>
        new(StatusCodes.Status502BadGateway, message, "server_error", null, "node_unreachable");

    /// <summary>Nodes declared themselves down or could not be reached, and the retry failed too.</summary>
    public static ApiException NodeUnavailable(string message) =>
        new(StatusCodes.Status503ServiceUnavailable, message, "service_unavailable", null, "node_unavailable") { RetryAfterSeconds = 1 };

    /// <summary>Any other node failure that the retry did not overcome.</summary>
    public static ApiException NodeFailed(string message) =>
        new(StatusCodes.Status502BadGateway, message, "server_error", null, "node_failed");
}
