namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// The <c>usage.kv_transfer</c> object of one completion: the KV bytes a full transfer would have sent, the bytes sent,
/// the bytes that reuse of a conversation parked on the decode node saved, and the leading prompt tokens whose KV the
/// decode node already held.
/// </summary>
public sealed record KvTransferUsage(long BytesFull, long BytesSent, long BytesReused, int ReusedPromptTokens);
