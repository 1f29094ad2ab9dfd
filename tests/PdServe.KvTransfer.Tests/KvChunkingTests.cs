using Google.Protobuf;
using PdServe.Contracts;
using PdServe.KvTransfer.Wire;

namespace PdServe.KvTransfer.Tests;

/// <summary>A sender's chunker and a receiver's assembler, connected directly: what a transfer does without gRPC.</summary>
public class KvChunkingTests
{
    private const int KvHeads = 2, HeadDim = 8, PromptTokens = 40;

    private static KvHeader Header(WireDtype dtype, params (int Layer, int[] Positions)[] layers)
    {
        var header = new KvHeader { WireDtype = dtype, PromptTokens = PromptTokens, KvHeads = KvHeads, HeadDim = HeadDim };
        header.Layers.AddRange(layers.Select(l => PositionRanges.ForLayer(l.Layer, l.Positions)));
        return header;
    }

    private static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
    }

    /// <summary>Sends each layer's keys and values through a chunker; returns the chunks, the trailer and the values sent.</summary>
    private static (List<KvChunk> Chunks, KvTrailer Trailer, Dictionary<int, (float[] K, float[] V)> Sent) Send(
        KvHeader header, int chunkBytes)
    {
        var chunker = new KvChunker(chunkBytes);
        var chunks = new List<KvChunk>();
        var sent = new Dictionary<int, (float[], float[])>();
        foreach (LayerPositions layer in header.Layers)
        {
            var shape = new KvTensorShape(KvHeads, PositionRanges.Count(layer), HeadDim);
            float[] keys = Values((int)shape.ElementCount, layer.Layer), values = Values((int)shape.ElementCount, 100 + layer.Layer);
            chunks.AddRange(chunker.Chunk(layer.Layer, KvPart.Keys, KvWireCodec.Encode(keys, shape, header.WireDtype)));
            chunks.AddRange(chunker.Chunk(layer.Layer, KvPart.Values, KvWireCodec.Encode(values, shape, header.WireDtype)));
            sent[layer.Layer] = (keys, values);
        }
        var trailer = new KvTrailer { BytesSent = chunker.PayloadBytes };
        trailer.ChunkChecksums.AddRange(chunker.Checksums);
        return (chunks, trailer, sent);
    }

    [Fact]
    public void Layers_are_split_into_chunks_no_larger_than_the_limit_and_reassembled_exactly()
    {
        int[] firstAndLast = [0, 1, 2, 36, 37, 38, 39];
        KvHeader header = Header(WireDtype.Float32, (0, Enumerable.Range(0, PromptTokens).ToArray()), (2, firstAndLast));
        var (chunks, trailer, sent) = Send(header, chunkBytes: 1000);

        // Layer 0 keys: 2·40·8·4 = 2560 bytes → 1000 + 1000 + 560; layer 2 keys: 2·7·8·4 = 448 bytes → one chunk.
        Assert.Equal(new[] { 1000, 1000, 560, 1000, 1000, 560, 448, 448 }, chunks.Select(c => c.Data.Length));
        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.Sequence));
        Assert.Equal(2 * 2560 + 2 * 448, trailer.BytesSent);

        var assembler = new KvAssembler(header, [0, 2], maxChunkBytes: 1000);
        chunks.ForEach(assembler.Accept);
        IReadOnlyList<ReceivedLayerKv> layers = assembler.Complete(trailer);
        Assert.Equal([0, 2], layers.Select(l => l.Layer));
        Assert.Equal(firstAndLast, layers[1].Positions);
        Assert.Equal(new KvTensorShape(KvHeads, 7, HeadDim), layers[1].Shape);
        foreach (ReceivedLayerKv layer in layers)
        {
            Assert.Equal(sent[layer.Layer].K, layer.Keys);
            Assert.Equal(sent[layer.Layer].V, layer.Values);
        }
    }

    [Fact]
    public void Position_ranges_merge_consecutive_positions_and_expand_back()
    {
        LayerPositions ranges = PositionRanges.ForLayer(3, [0, 1, 2, 7, 8, 9]);
        Assert.Equal([(0, 3), (7, 3)], ranges.Ranges.Select(r => (r.Start, r.Count)));
        Assert.Equal(6, PositionRanges.Count(ranges));
        Assert.Equal([0, 1, 2, 7, 8, 9], PositionRanges.Expand(ranges, 10));
        var overlapping = new LayerPositions { Layer = 1, Ranges = { new PositionRange { Start = 0, Count = 3 }, new PositionRange { Start = 2, Count = 1 } } };
        Assert.Equal(KvTransferFailure.Protocol, Assert.Throws<KvTransferException>(() => PositionRanges.Expand(overlapping, 10)).Failure);
        Assert.Throws<KvTransferException>(() => PositionRanges.Expand(ranges, 9));
    }

    [Fact]
    public void A_flipped_byte_in_any_chunk_is_data_loss_naming_that_chunk()
    {
        KvHeader header = Header(WireDtype.Bfloat16, (0, Enumerable.Range(0, PromptTokens).ToArray()), (1, [0, 39]));
        var (chunks, trailer, _) = Send(header, chunkBytes: 512);
        byte[] tampered = chunks[2].Data.ToByteArray();
        tampered[17] ^= 0x01;
        chunks[2].Data = ByteString.CopyFrom(tampered);

        var assembler = new KvAssembler(header, [0, 1], maxChunkBytes: 512);
        chunks.ForEach(assembler.Accept);
        var error = Assert.Throws<KvTransferException>(() => assembler.Complete(trailer));
        Assert.Equal(KvTransferFailure.DataLoss, error.Failure);
        Assert.Contains("chunk 2", error.Message);
    }

    [Fact]
    public void A_missing_or_reordered_chunk_is_data_loss()
    {
        KvHeader header = Header(WireDtype.Float32, (0, Enumerable.Range(0, PromptTokens).ToArray()));
        var (chunks, trailer, _) = Send(header, chunkBytes: 1000);

        var skipping = new KvAssembler(header, [0], 1000);
        skipping.Accept(chunks[0]);
        Assert.Equal(KvTransferFailure.DataLoss, Assert.Throws<KvTransferException>(() => skipping.Accept(chunks[2])).Failure);

        var truncated = new KvAssembler(header, [0], 1000);
        chunks.Take(chunks.Count - 1).ToList().ForEach(truncated.Accept);
        Assert.Equal(KvTransferFailure.DataLoss, Assert.Throws<KvTransferException>(() => truncated.Complete(trailer)).Failure);
    }

    [Fact]
    public void Chunks_larger_than_the_receivers_limit_or_outside_their_tensor_are_refused()
    {
        KvHeader header = Header(WireDtype.Float32, (0, [0, 1]));
        var (chunks, _, _) = Send(header, chunkBytes: 4096);
        var strict = new KvAssembler(header, [0], maxChunkBytes: 64);
        Assert.Equal(KvTransferFailure.Protocol, Assert.Throws<KvTransferException>(() => strict.Accept(chunks[0])).Failure);

        var assembler = new KvAssembler(header, [0], maxChunkBytes: 4096);
        chunks[0].Offset = 8;
        Assert.Equal(KvTransferFailure.Protocol, Assert.Throws<KvTransferException>(() => assembler.Accept(chunks[0])).Failure);
    }

    [Fact]
    public void A_header_with_other_layers_than_expected_is_refused()
    {
        KvHeader header = Header(WireDtype.Float32, (0, [0]), (1, [0]));
        Assert.Equal(KvTransferFailure.Protocol, Assert.Throws<KvTransferException>(() => new KvAssembler(header, [0, 2], 1024)).Failure);
    }

    [Fact]
    public void Chunk_sizes_are_clamped_to_what_fits_in_one_grpc_message()
    {
        Assert.Equal(MessageLimits.DefaultChunkBytes, MessageLimits.ChunkBytes(0));
        Assert.Equal(4096, MessageLimits.ChunkBytes(4096));
        Assert.Equal(MessageLimits.MaxChunkBytes, MessageLimits.ChunkBytes(uint.MaxValue));
        Assert.True(MessageLimits.MaxChunkBytes + MessageLimits.FramingAllowance <= MessageLimits.MaxMessageBytes);
    }
}
