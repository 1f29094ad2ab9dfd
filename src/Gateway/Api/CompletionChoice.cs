using System.Text.Json.Serialization;

namespace PdServe.Gateway.Api;

/// <summary>One choice of a <c>/v1/completions</c> response or stream chunk.</summary>
public sealed record CompletionChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("logprobs")] CompletionLogprobs? Logprobs,
    [property: JsonPropertyName("finish_reason")] string? FinishReason)
{
    /// <summary>vLLM's extension, only when the request asked for it.</summary>
    [JsonPropertyName("prompt_logprobs"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Dictionary<string, PromptLogprob>?>? PromptLogprobs { get; init; }
}

/// <summary>The legacy completions logprobs: parallel lists per token (an echoed prompt's first token: nulls).</summary>
public sealed record CompletionLogprobs(
    [property: JsonPropertyName("tokens")] IReadOnlyList<string> Tokens,
    [property: JsonPropertyName("token_logprobs")] IReadOnlyList<float?> TokenLogprobs,
    [property: JsonPropertyName("top_logprobs")] IReadOnlyList<Dictionary<string, float>?> TopLogprobs,
    [property: JsonPropertyName("text_offset")] IReadOnlyList<int> TextOffset);
