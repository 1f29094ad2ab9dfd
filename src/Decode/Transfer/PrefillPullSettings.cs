namespace PdServe.Decode.Transfer;

/// <summary>How a decode node pulls KV: the longest a pull may take, the chunk size it asks for, the node token it presents.</summary>
public sealed record PrefillPullSettings(TimeSpan TransferTimeout, uint ChunkBytes, string? NodeToken);
