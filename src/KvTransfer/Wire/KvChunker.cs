using Google.Protobuf;
using PdServe.Contracts;

namespace PdServe.KvTransfer.Wire;

/// <summary>
/// Cuts encoded layer tensors into numbered chunks of at most a given payload size and records each chunk's
/// checksum for the trailer. One chunker serves one transfer.
/// </summary>
public sealed class KvChunker(int maxChunkBytes)
{
    private readonly List<ulong> checksums = [];

    private readonly int maxChunkBytes = maxChunkBytes > 0 ? maxChunkBytes : throw new ArgumentOutOfRangeException(nameof(maxChunkBytes));

    /// <summary>Checksums of the chunks made so far, in sequence order.</summary>
    public IReadOnlyList<ulong> Checksums => checksums;

    /// <summary>Payload bytes chunked so far.</summary>
    public long PayloadBytes { get; private set; }

    /// <summary>
    /// The chunks of one encoded tensor. They wrap <paramref name="encoded"/> without copying it, so the caller must
    /// not change it afterwards.
    /// </summary>
    public IReadOnlyList<KvChunk> Chunk(int layer, KvPart part, byte[] encoded)
    {
        var chunks = new List<KvChunk>((encoded.Length + maxChunkBytes - 1) / maxChunkBytes);
        for (int offset = 0; offset < encoded.Length; offset += maxChunkBytes)
        {
            int length = Math.Min(maxChunkBytes, encoded.Length - offset);
            chunks.Add(new KvChunk
            {
                Sequence = checksums.Count,
                Layer = layer,
                Part = part,
                Offset = offset,
                Data = UnsafeByteOperations.UnsafeWrap(encoded.AsMemory(offset, length)),
            });
            checksums.Add(ChunkChecksum.Of(encoded.AsSpan(offset, length)));
            PayloadBytes += length;
        }
        return chunks;
    }
}
