namespace PdServe.Gateway.Generation;

/// <summary>One call's (or a request's, summed) KV accounting from the decode node's summary.</summary>
public sealed record TransferUsage(long BytesFull, long BytesSent, long BytesReused, int ReusedPromptTokens, int CachedPromptTokens)
{
    public static TransferUsage None { get; } = new(0, 0, 0, 0, 0);

    public static TransferUsage operator +(TransferUsage a, TransferUsage b) => new(a.BytesFull + b.BytesFull, a.BytesSent + b.BytesSent,
        a.BytesReused + b.BytesReused, a.ReusedPromptTokens + b.ReusedPromptTokens, a.CachedPromptTokens + b.CachedPromptTokens);
}
