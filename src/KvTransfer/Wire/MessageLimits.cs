namespace PdServe.KvTransfer.Wire;

/// <summary>
/// gRPC message-size limits both nodes set explicitly (gRPC's default receive limit is 4 MiB). A chunk's payload
/// stays well below the limit so the framing around it always fits.
/// </summary>
public static class MessageLimits
{
    /// <summary>Largest message either node sends or accepts on the KV transfer and decode services.</summary>
    public const int MaxMessageBytes = 4 * 1024 * 1024;

    /// <summary>Room left for a chunk's other fields and protobuf framing.</summary>
    public const int FramingAllowance = 64 * 1024;

    /// <summary>Default KV payload per chunk: small enough to start sending early, large enough that framing is negligible.</summary>
    public const int DefaultChunkBytes = 1024 * 1024;

    public const int MaxChunkBytes = MaxMessageBytes - FramingAllowance;

    /// <summary>The chunk size to use for a requested size (0 = default), clamped to what fits in one message.</summary>
    public static int ChunkBytes(uint requested) =>
        requested == 0 ? DefaultChunkBytes : (int)Math.Clamp(requested, 1u, (uint)MaxChunkBytes);
}
