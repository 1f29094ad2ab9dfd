namespace PdServe.Gateway.Generation;

/// <summary>
/// Token counts of a finished request, as OpenAI's <c>usage</c> reports them, and what its KV cost and saved, summed
/// over its prompts: the transfer's bytes (full, sent, saved by reuse), the leading prompt tokens a decode node already
/// held (a parked conversation) and those the prefill node took from its prefix cache.
/// </summary>
public sealed record GenerationUsage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
    public TransferUsage Kv { get; init; } = TransferUsage.None;
}
