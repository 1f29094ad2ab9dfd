using System.Text.Json.Serialization;

namespace PdServe.Gateway.Api;

/// <summary>One choice of a <c>/v1/completions</c> response or stream chunk.</summary>
public sealed record CompletionChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("logprobs")] CompletionLogprobs? Logprobs,
    [property: JsonPropertyName("finish_reason")] string? FinishReason);

/// <summary>The legacy completions logprobs: parallel lists per token.</summary>
public sealed record CompletionLogprobs(
    [property: JsonPropertyName("tokens")] IReadOnlyList<string> Tokens,
    [property: JsonPropertyName("token_logprobs")] IReadOnlyList<float> TokenLogprobs,
    [property: JsonPropertyName("top_logprobs")] IReadOnlyList<Dictionary<string, float>> TopLogprobs,
    [property: JsonPropertyName("text_offset")] IReadOnlyList<int> TextOffset);
