using System.Runtime.InteropServices;
using PdServe.Contracts;

namespace PdServe.KvTransfer.Wire;

/// <summary>
/// The receiving end of one transfer: checks the header against the request, places each chunk's bytes where they
/// belong while hashing them, and on the trailer proves that every byte arrived intact (same chunk count, same
/// checksums, every tensor complete) before decoding anything. Each tensor's chunks must arrive in order and
/// back to back (a chunk starts where the previous one of its tensor ended), so no byte is written twice. Throws
/// <see cref="KvTransferException"/> on the first problem, and nothing else for anything the sender sends.
/// </summary>
public sealed class KvAssembler
{
    private readonly Dictionary<(int Layer, KvPart Part), Received> tensors = new();
    private readonly List<ulong> checksums = [];
    private readonly KvHeader header;
    private readonly int maxChunkBytes;

    /// <param name="expectedPromptTokens">The prompt length of the request the transfer answers, which the header must state.</param>
    /// <param name="expectedReusedPrefix">The reused prefix the request asked for, which the header must echo.</param>
    public KvAssembler(KvHeader header, IReadOnlyList<int> expectedLayers, int maxChunkBytes, int? expectedPromptTokens = null,
        int? expectedReusedPrefix = null)
    {
        this.header = header;
        this.maxChunkBytes = maxChunkBytes;
        if (header.KvHeads < 1 || header.HeadDim < 1 || header.PromptTokens < 1)
            throw new KvTransferException(KvTransferFailure.Protocol,
                $"header has kv_heads {header.KvHeads}, head_dim {header.HeadDim}, prompt_tokens {header.PromptTokens}");
        if (expectedPromptTokens is { } promptTokens && header.PromptTokens != promptTokens)
            throw new KvTransferException(KvTransferFailure.Protocol,
                $"header has prompt_tokens {header.PromptTokens} for a prompt of {promptTokens} tokens");
        if (!Enum.IsDefined(header.WireDtype))
            throw new KvTransferException(KvTransferFailure.Protocol, $"header has unknown wire dtype {(int)header.WireDtype}");
        var sent = header.Layers.Select(l => l.Layer).ToArray();
        if (!sent.SequenceEqual(expectedLayers))
            throw new KvTransferException(KvTransferFailure.Protocol,
                $"header lists layers [{string.Join(',', sent)}], expected [{string.Join(',', expectedLayers)}]");
        if (header.ReusedPrefixTokens < 0 || header.ReusedPrefixTokens >= header.PromptTokens)
            throw new KvTransferException(KvTransferFailure.Protocol,
                $"header has reused_prefix_tokens {header.ReusedPrefixTokens} for a {header.PromptTokens}-token prompt");
        if (expectedReusedPrefix is { } reused && header.ReusedPrefixTokens != reused)
            throw new KvTransferException(KvTransferFailure.Protocol,
                $"header has reused_prefix_tokens {header.ReusedPrefixTokens}, the request asked for {reused}");
        foreach (LayerPositions layer in header.Layers)
        {
            int[] positions = PositionRanges.Expand(layer, header.PromptTokens);
            // Only a delta transfer may leave a layer empty: its kept positions all lie in the reused prefix.
            if (positions.Length == 0 && header.ReusedPrefixTokens == 0)
                throw new KvTransferException(KvTransferFailure.Protocol, $"layer {layer.Layer} holds no prompt positions");
            if (positions.Length > 0 && positions[0] < header.ReusedPrefixTokens)
                throw new KvTransferException(KvTransferFailure.Protocol,
                    $"layer {layer.Layer} sends position {positions[0]}, inside the reused prefix of {header.ReusedPrefixTokens} tokens");
            var shape = new KvTensorShape(header.KvHeads, positions.Length, header.HeadDim);
            foreach (KvPart part in new[] { KvPart.Keys, KvPart.Values })
                tensors[(layer.Layer, part)] = new Received(positions, shape, header.WireDtype);
        }
    }

    /// <summary>Payload bytes received so far.</summary>
    public long ReceivedBytes { get; private set; }

    public void Accept(KvChunk chunk)
    {
        if (chunk.Sequence != checksums.Count)
            throw new KvTransferException(KvTransferFailure.DataLoss, $"chunk {chunk.Sequence} arrived where chunk {checksums.Count} was due");
        if (!tensors.TryGetValue((chunk.Layer, chunk.Part), out Received? target))
            throw new KvTransferException(KvTransferFailure.Protocol,
                $"chunk {chunk.Sequence} is for layer {chunk.Layer} part {chunk.Part}, which the header does not list");
        ReadOnlySpan<byte> data = chunk.Data.Span;
        Span<byte> buffer = target.Buffer;
        if (chunk.Offset != target.Filled)
            throw new KvTransferException(KvTransferFailure.Protocol,
                $"chunk {chunk.Sequence} starts at offset {chunk.Offset} of layer {chunk.Layer} {chunk.Part}, whose next byte is {target.Filled}");
        if (data.Length == 0 || data.Length > maxChunkBytes || chunk.Offset + data.Length > buffer.Length)
            throw new KvTransferException(KvTransferFailure.Protocol,
                $"chunk {chunk.Sequence} ({data.Length} bytes at offset {chunk.Offset}) does not fit layer {chunk.Layer} {chunk.Part} ({buffer.Length} bytes, chunks of 1 to {maxChunkBytes})");
        data.CopyTo(buffer[(int)chunk.Offset..]);
        target.Filled += data.Length;
        checksums.Add(ChunkChecksum.Of(data));
        ReceivedBytes += data.Length;
    }

    /// <summary>Verifies the transfer against the trailer and decodes every layer into float32.</summary>
    public IReadOnlyList<ReceivedLayerKv> Complete(KvTrailer trailer)
    {
        if (trailer.ChunkChecksums.Count != checksums.Count)
            throw new KvTransferException(KvTransferFailure.DataLoss,
                $"the sender sent {trailer.ChunkChecksums.Count} chunks, {checksums.Count} arrived");
        for (int i = 0; i < checksums.Count; i++)
        {
            if (trailer.ChunkChecksums[i] != checksums[i])
                throw new KvTransferException(KvTransferFailure.DataLoss, $"chunk {i} is corrupt: its checksum does not match the sender's");
        }
        foreach (((int layer, KvPart part), Received received) in tensors)
        {
            if (received.Filled != received.Buffer.Length)
                throw new KvTransferException(KvTransferFailure.DataLoss,
                    $"layer {layer} {part}: {received.Filled} of {received.Buffer.Length} bytes arrived");
        }
        if (trailer.BytesSent != ReceivedBytes)
            throw new KvTransferException(KvTransferFailure.DataLoss, $"the sender reports {trailer.BytesSent} bytes sent, {ReceivedBytes} arrived");

        var layers = new List<ReceivedLayerKv>(header.Layers.Count);
        foreach (LayerPositions layer in header.Layers)
        {
            Received keys = tensors[(layer.Layer, KvPart.Keys)], values = tensors[(layer.Layer, KvPart.Values)];
            layers.Add(new ReceivedLayerKv(layer.Layer, keys.Positions, keys.Shape, Decode(keys), Decode(values)));
        }
        return layers;
    }

    private float[] Decode(Received received)
    {
        if (received.Floats is { } floats)
        {
            if (!BitConverter.IsLittleEndian)
            {
                Span<uint> words = MemoryMarshal.Cast<float, uint>(floats.AsSpan());
                System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(words, words);
            }
            return floats;
        }
        var values = new float[received.Shape.ElementCount];
        KvWireCodec.Decode(received.Bytes, received.Shape, header.WireDtype, values);
        return values;
    }

    /// <summary>
    /// Where one tensor's bytes land. float32 on the wire is the little-endian bytes of the values themselves, so it is
    /// received straight into the float array the caller gets: no second buffer, no second copy.
    /// </summary>
    private sealed class Received(int[] positions, KvTensorShape shape, WireDtype dtype)
    {
        public int[] Positions { get; } = positions;
        public KvTensorShape Shape { get; } = shape;
        public float[]? Floats { get; } = dtype == WireDtype.Float32 ? new float[shape.ElementCount] : null;
        public byte[] Bytes { get; } = dtype == WireDtype.Float32 ? [] : new byte[KvWireCodec.EncodedBytes(shape, dtype)];
        public Span<byte> Buffer => Floats is not null ? MemoryMarshal.AsBytes(Floats.AsSpan()) : Bytes;
        public long Filled { get; set; }
    }
}
