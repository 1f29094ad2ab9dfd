using System.Text.Json.Serialization;

namespace PdServe.Gateway.Api;

/// <summary>One choice of a non-streaming <c>/v1/chat/completions</c> response: the assistant's whole message.</summary>
public sealed record ChatChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("message")] ChatResponseMessage Message,
    [property: JsonPropertyName("logprobs")] ChatLogprobs? Logprobs,
    [property: JsonPropertyName("finish_reason")] string? FinishReason);

public sealed record ChatResponseMessage(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] string Content);
