using System.Text.Json.Serialization;
using PdServe.Gateway.Generation;

namespace PdServe.Gateway.Api;

/// <summary>
/// OpenAI's <c>usage</c> object. <c>prompt_tokens_details.cached_tokens</c> (OpenAI's field) counts the prompt tokens
/// whose KV was not computed again (the prefill node's prefix cache); <c>kv_transfer</c> is PdServe's: the bytes of the
/// prompt's KV transfer and those a parked conversation saved.
/// </summary>
public sealed record Usage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens,
    [property: JsonPropertyName("prompt_tokens_details")] PromptTokensDetails PromptTokensDetails,
    [property: JsonPropertyName("kv_transfer")] KvTransferUsage KvTransfer)
{
    public static Usage From(GenerationUsage usage) => new(usage.PromptTokens, usage.CompletionTokens, usage.TotalTokens,
        new PromptTokensDetails(usage.Kv.CachedPromptTokens),
        new KvTransferUsage(usage.Kv.BytesFull, usage.Kv.BytesSent, usage.Kv.BytesReused, usage.Kv.ReusedPromptTokens));
}
