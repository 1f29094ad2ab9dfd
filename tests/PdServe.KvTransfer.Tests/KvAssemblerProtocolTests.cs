using Google.Protobuf;
using PdServe.Contracts;
using PdServe.KvTransfer.Wire;

namespace PdServe.KvTransfer.Tests;

/// <summary>
/// Whatever a sender puts on the wire, the assembler either accepts a well-formed transfer or throws
/// <see cref="KvTransferException"/> (never another exception type, never a byte written twice).
/// </summary>
public class KvAssemblerProtocolTests
{
    private const int KvHeads = 2, HeadDim = 4, PromptTokens = 10;
    // One tensor of the whole prompt in float32: 2 heads × 4 dims × 4 bytes per position.
    private const int TensorBytes = KvHeads * HeadDim * sizeof(float) * PromptTokens;

    private static KvHeader Header(WireDtype dtype = WireDtype.Float32, int promptTokens = PromptTokens)
    {
        var header = new KvHeader { WireDtype = dtype, PromptTokens = promptTokens, KvHeads = KvHeads, HeadDim = HeadDim };
        header.Layers.Add(PositionRanges.ForLayer(0, Enumerable.Range(0, promptTokens).ToArray()));
        return header;
    }

    private static KvHeader WithRanges(params (int Start, int Count)[] ranges)
    {
        KvHeader header = Header();
        header.Layers[0].Ranges.Clear();
        header.Layers[0].Ranges.AddRange(ranges.Select(r => new PositionRange { Start = r.Start, Count = r.Count }));
        return header;
    }

    private static KvAssembler Assembler(KvHeader header) => new(header, [0], maxChunkBytes: 1024, expectedPromptTokens: PromptTokens);

    private static KvChunk Chunk(int sequence, KvPart part, long offset, int length) => new()
    {
        Sequence = sequence,
        Layer = 0,
        Part = part,
        Offset = offset,
        Data = ByteString.CopyFrom(new byte[length]),
    };

    private static KvTransferFailure Refused(Action action) => Assert.Throws<KvTransferException>(action).Failure;

    [Fact]
    public void An_unknown_wire_dtype_in_the_header_is_a_protocol_error()
    {
        Assert.Equal(KvTransferFailure.Protocol, Refused(() => Assembler(Header((WireDtype)7))));
    }

    [Fact]
    public void A_header_whose_prompt_length_differs_from_the_requests_is_a_protocol_error()
    {
        var error = Assert.Throws<KvTransferException>(() => new KvAssembler(Header(promptTokens: PromptTokens + 1), [0], 1024, PromptTokens));
        Assert.Equal(KvTransferFailure.Protocol, error.Failure);
        Assert.Contains($"prompt_tokens {PromptTokens + 1}", error.Message);
    }

    [Theory]
    [InlineData(-1, 3)] // before the prompt
    [InlineData(8, 3)] // beyond its end
    [InlineData(0, 0)] // empty
    [InlineData(int.MaxValue, 2)] // overflowing
    public void A_position_range_outside_the_prompt_is_a_protocol_error(int start, int count)
    {
        Assert.Equal(KvTransferFailure.Protocol, Refused(() => Assembler(WithRanges((start, count)))));
    }

    [Fact]
    public void Overlapping_or_unsorted_position_ranges_are_a_protocol_error()
    {
        Assert.Equal(KvTransferFailure.Protocol, Refused(() => Assembler(WithRanges((0, 4), (3, 2)))));
        Assert.Equal(KvTransferFailure.Protocol, Refused(() => Assembler(WithRanges((5, 2), (0, 2)))));
        Assert.Equal(KvTransferFailure.Protocol, Refused(() => Assembler(WithRanges((2, 2), (2, 2)))));
    }

    [Fact]
    public void A_layer_without_positions_is_a_protocol_error()
    {
        Assert.Equal(KvTransferFailure.Protocol, Refused(() => Assembler(WithRanges())));
    }

    [Fact]
    public void A_duplicate_chunk_is_a_protocol_error()
    {
        KvAssembler assembler = Assembler(Header());
        assembler.Accept(Chunk(0, KvPart.Keys, 0, 100));
        Assert.Equal(KvTransferFailure.Protocol, Refused(() => assembler.Accept(Chunk(1, KvPart.Keys, 0, 100))));
    }

    [Fact]
    public void An_overlapping_chunk_is_a_protocol_error()
    {
        KvAssembler assembler = Assembler(Header());
        assembler.Accept(Chunk(0, KvPart.Keys, 0, 100));
        Assert.Equal(KvTransferFailure.Protocol, Refused(() => assembler.Accept(Chunk(1, KvPart.Keys, 50, 100))));
    }

    [Fact]
    public void A_chunk_that_skips_ahead_in_its_tensor_is_a_protocol_error()
    {
        KvAssembler assembler = Assembler(Header());
        Assert.Equal(KvTransferFailure.Protocol, Refused(() => assembler.Accept(Chunk(0, KvPart.Keys, 100, 100))));
    }

    [Fact]
    public void Each_tensor_fills_in_order_while_tensors_may_interleave()
    {
        KvAssembler assembler = Assembler(Header());
        assembler.Accept(Chunk(0, KvPart.Keys, 0, 200));
        assembler.Accept(Chunk(1, KvPart.Values, 0, TensorBytes));
        assembler.Accept(Chunk(2, KvPart.Keys, 200, TensorBytes - 200));
        Assert.Equal(2 * TensorBytes, assembler.ReceivedBytes);
        // A full tensor takes no more bytes.
        Assert.Equal(KvTransferFailure.Protocol, Refused(() => assembler.Accept(Chunk(3, KvPart.Keys, TensorBytes, 1))));
    }

    [Fact]
    public void An_empty_chunk_is_a_protocol_error()
    {
        Assert.Equal(KvTransferFailure.Protocol, Refused(() => Assembler(Header()).Accept(Chunk(0, KvPart.Keys, 0, 0))));
    }

    [Fact]
    public void A_chunk_for_an_unknown_part_or_layer_is_a_protocol_error()
    {
        Assert.Equal(KvTransferFailure.Protocol, Refused(() => Assembler(Header()).Accept(Chunk(0, (KvPart)5, 0, 100))));
        KvChunk otherLayer = Chunk(0, KvPart.Keys, 0, 100);
        otherLayer.Layer = 3;
        Assert.Equal(KvTransferFailure.Protocol, Refused(() => Assembler(Header()).Accept(otherLayer)));
    }

    [Fact]
    public void A_chunk_at_a_negative_offset_is_a_protocol_error()
    {
        Assert.Equal(KvTransferFailure.Protocol, Refused(() => Assembler(Header()).Accept(Chunk(0, KvPart.Keys, -4, 100))));
    }
}
