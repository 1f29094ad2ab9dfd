using System.IO.Hashing;

namespace PdServe.KvTransfer.Wire;

/// <summary>The per-chunk checksum: XxHash3, 64-bit, seed 0 — fast enough to cost nothing next to the copy it guards.</summary>
public static class ChunkChecksum
{
    public static ulong Of(ReadOnlySpan<byte> data) => XxHash3.HashToUInt64(data);
}
