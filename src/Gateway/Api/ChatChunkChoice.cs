using System.Text.Json.Serialization;

namespace PdServe.Gateway.Api;

/// <summary>One choice of a streaming <c>/v1/chat/completions</c> chunk: what the assistant's message gained.</summary>
public sealed record ChatChunkChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("delta")] ChatDelta Delta,
    [property: JsonPropertyName("logprobs")] ChatLogprobs? Logprobs,
    [property: JsonPropertyName("finish_reason")] string? FinishReason);

public sealed record ChatDelta(
    [property: JsonPropertyName("role"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonPropertyName("content"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content);
