namespace PdServe.Gateway.Generation;

/// <summary>
/// Token counts of a finished request, as OpenAI's <c>usage</c> reports them, and what its KV cost and saved, summed
/// over its prompts: the transfer's bytes (full, sent, saved by reuse), the leading prompt tokens a decode node already
/// held (a parked conversation) and those the prefill node took from its prefix cache.
/// </summary>
public sealed record GenerationUsage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
    public KvUsage Kv { get; init; } = KvUsage.None;
}

/// <summary>One call's (or a request's, summed) KV accounting from the decode node's summary.</summary>
public sealed record KvUsage(long BytesFull, long BytesSent, long BytesReused, int ReusedPromptTokens, int CachedPromptTokens)
{
    public static KvUsage None { get; } = new(0, 0, 0, 0, 0);

    public static KvUsage operator +(KvUsage a, KvUsage b) => new(a.BytesFull + b.BytesFull, a.BytesSent + b.BytesSent,
        a.BytesReused + b.BytesReused, a.ReusedPromptTokens + b.ReusedPromptTokens, a.CachedPromptTokens + b.CachedPromptTokens);
}
