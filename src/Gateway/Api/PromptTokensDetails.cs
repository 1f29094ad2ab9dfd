using System.Text.Json.Serialization;

namespace PdServe.Gateway.Api;

/// <summary>OpenAI's <c>usage.prompt_tokens_details</c>: prompt tokens whose KV came from a prefix cache.</summary>
public sealed record PromptTokensDetails([property: JsonPropertyName("cached_tokens")] int CachedTokens);
