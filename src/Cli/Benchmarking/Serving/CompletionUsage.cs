using System.Text.Json;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// The <c>usage</c> object of a completion: OpenAI's token counts, OpenAI's
/// <c>prompt_tokens_details.cached_tokens</c> (leading prompt tokens the prefill node took from its prefix cache) and
/// PdServe's <c>kv_transfer</c>. The last two are optional — older servers and other servers send neither — and are
/// null when absent, so a run against them still works and reports no reuse rather than a reuse of zero.
/// </summary>
public sealed record CompletionUsage(int PromptTokens, int CompletionTokens, int? CachedTokens, KvTransferUsage? KvTransfer)
{
    /// <summary>Reads a <c>usage</c> object; <see cref="KeyNotFoundException"/> or <see cref="InvalidOperationException"/> when the required counts are missing or not numbers.</summary>
    public static CompletionUsage Parse(JsonElement usage) => new(
        usage.GetProperty("prompt_tokens").GetInt32(),
        usage.GetProperty("completion_tokens").GetInt32(),
        CachedTokensOf(usage),
        KvTransferOf(usage));

    private static int? CachedTokensOf(JsonElement usage) =>
        usage.TryGetProperty("prompt_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object
        && details.TryGetProperty("cached_tokens", out var cached) && cached.ValueKind == JsonValueKind.Number
            ? cached.GetInt32()
            : null;

    private static KvTransferUsage? KvTransferOf(JsonElement usage)
    {
        if (!usage.TryGetProperty("kv_transfer", out var kv) || kv.ValueKind != JsonValueKind.Object) return null;
        // Each field on its own: a server that reports some of them still has those counted.
        return new KvTransferUsage(Long(kv, "bytes_full"), Long(kv, "bytes_sent"), Long(kv, "bytes_reused"), (int)Long(kv, "reused_prompt_tokens"));
    }

    private static long Long(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;
}
