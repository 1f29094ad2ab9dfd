using System.Text.Json.Serialization;
using PdServe.Gateway.Generation;

namespace PdServe.Gateway.Api;

/// <summary>OpenAI's <c>usage</c> object.</summary>
public sealed record Usage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens)
{
    public static Usage From(GenerationUsage usage) => new(usage.PromptTokens, usage.CompletionTokens, usage.TotalTokens);
}
