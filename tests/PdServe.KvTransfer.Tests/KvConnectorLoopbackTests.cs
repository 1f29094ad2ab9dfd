using Google.Protobuf;
using PdServe.Contracts;
using PdServe.KvTransfer.Connector;
using PdServe.KvTransfer.Wire;

namespace PdServe.KvTransfer.Tests;

/// <summary>
/// The connector's two halves connected directly, as a prefill node's worker and a decode node's pull are over gRPC:
/// whichever positions the policy keeps and whichever wire dtype, the receiver holds exactly the kept rows the sender
/// encoded, and the byte accounting is the bytes that travelled.
/// </summary>
public class KvConnectorLoopbackTests
{
    private const int KvHeads = 2, HeadDim = 8, ModelLayers = 4;
    private const string Model = "model-fingerprint", Plan = "plan-fingerprint";
    private static readonly int[] SentLayers = [0, 1, 3]; // the decode stage skips block 2
    private static readonly IKvConnector Connector = new ChunkedKvConnector();

    /// <summary>The token-aware policy's positions: the first <paramref name="first"/> and last <paramref name="last"/>, or all of a short prompt.</summary>
    private static int[] FirstAndLast(int promptTokens, int first, int last) => promptTokens <= first + last
        ? Enumerable.Range(0, promptTokens).ToArray()
        : [.. Enumerable.Range(0, first), .. Enumerable.Range(promptTokens - last, last)];

    /// <summary>Every sent layer keeps everything, or layers 1 and 3 keep the first 3 and last 5 positions (layer 0 stays whole).</summary>
    private static KvTransferLayout Layout(int promptTokens, bool tokenAware, WireDtype dtype) => new(promptTokens, KvHeads, HeadDim, ModelLayers, dtype,
        SentLayers.Select(layer => new KeptLayer(layer, tokenAware && layer != 0
            ? FirstAndLast(promptTokens, 3, 5)
            : Enumerable.Range(0, promptTokens).ToArray())).ToArray());

    /// <summary>One layer's keys or values over every prompt position, [kvHeads, promptTokens, headDim].</summary>
    private static float[] PromptRows(int promptTokens, int layer, KvPart part)
    {
        var random = new Random(layer * 10 + (int)part);
        return Enumerable.Range(0, KvHeads * promptTokens * HeadDim).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
    }

    private static ExpectedKv Expected(int promptTokens, int maxChunkBytes, int samples = 1) =>
        new(Model, Plan, KvHeads, HeadDim, SentLayers, promptTokens, samples, VocabSize: 100, maxChunkBytes);

    /// <summary>What a prefill worker sends: header, each layer's keys then values as it finishes, trailer with one first token.</summary>
    private static (KvSender Sender, KvHeader Header, List<KvChunk> Chunks, KvTrailer Trailer) Send(KvTransferLayout layout, int maxChunkBytes)
    {
        KvSender sender = Connector.StartSending(layout, maxChunkBytes);
        KvHeader header = sender.Header("r1", Model, Plan);
        var chunks = new List<KvChunk>();
        for (int layer = 0; layer < ModelLayers; layer++)
        {
            if (!sender.Sends(layer)) continue;
            foreach (KvPart part in new[] { KvPart.Keys, KvPart.Values })
                chunks.AddRange(sender.Encode(layer, part, PromptRows(layout.PromptTokens, layer, part)));
        }
        KvTrailer trailer = sender.Trailer();
        trailer.FirstTokens.Add(new FirstToken { SampleIndex = 0, TokenId = 7 });
        return (sender, header, chunks, trailer);
    }

    private static ReceivedKv Receive(KvHeader header, IEnumerable<KvChunk> chunks, KvTrailer trailer, ExpectedKv expected)
    {
        KvReceiver receiver = Connector.StartReceiving(header, expected);
        foreach (KvChunk chunk in chunks) receiver.Accept(chunk);
        return receiver.Complete(trailer);
    }

    /// <summary>The kept rows of one layer as the wire dtype delivers them: exact for float32, the codec's rounding otherwise.</summary>
    private static float[] Delivered(float[] promptRows, int promptTokens, IReadOnlyList<int> kept, WireDtype dtype)
    {
        var rows = new List<float>();
        for (int head = 0; head < KvHeads; head++)
            foreach (int position in kept)
                rows.AddRange(promptRows.AsSpan((head * promptTokens + position) * HeadDim, HeadDim).ToArray());
        var shape = new KvTensorShape(KvHeads, kept.Count, HeadDim);
        var decoded = new float[shape.ElementCount];
        KvWireCodec.Decode(KvWireCodec.Encode(rows.ToArray(), shape, dtype), shape, dtype, decoded);
        return decoded;
    }

    public static TheoryData<bool, WireDtype> PoliciesAndDtypes()
    {
        var data = new TheoryData<bool, WireDtype>();
        foreach (bool tokenAware in new[] { false, true })
            foreach (WireDtype dtype in Enum.GetValues<WireDtype>())
                data.Add(tokenAware, dtype);
        return data;
    }

    [Theory]
    [MemberData(nameof(PoliciesAndDtypes))]
    public void The_receiver_holds_exactly_the_kept_rows_and_the_accounting_is_the_bytes_that_travelled(bool tokenAware, WireDtype dtype)
    {
        const int promptTokens = 40, chunkBytes = 300;
        KvTransferLayout layout = Layout(promptTokens, tokenAware, dtype);
        var (sender, header, chunks, trailer) = Send(layout, chunkBytes);
        ReceivedKv received = Receive(header, chunks, trailer, Expected(promptTokens, chunkBytes));

        Assert.Equal(SentLayers, received.Layers.Select(l => l.Layer));
        foreach (ReceivedLayerKv layer in received.Layers)
        {
            int[] kept = tokenAware && layer.Layer != 0 ? [0, 1, 2, 35, 36, 37, 38, 39] : Enumerable.Range(0, promptTokens).ToArray();
            Assert.Equal(kept, layer.Positions);
            Assert.Equal(new KvTensorShape(KvHeads, kept.Length, HeadDim), layer.Shape);
            Assert.Equal(Delivered(PromptRows(promptTokens, layer.Layer, KvPart.Keys), promptTokens, kept, dtype), layer.Keys);
            Assert.Equal(Delivered(PromptRows(promptTokens, layer.Layer, KvPart.Values), promptTokens, kept, dtype), layer.Values);
            if (dtype != WireDtype.Float32) continue;
            // float32 travels exactly: row j of each head is the source's row at prompt position kept[j].
            float[] source = PromptRows(promptTokens, layer.Layer, KvPart.Keys);
            for (int head = 0; head < KvHeads; head++)
                for (int j = 0; j < kept.Length; j++)
                    Assert.Equal(source.AsSpan((head * promptTokens + kept[j]) * HeadDim, HeadDim).ToArray(),
                        layer.Keys.AsSpan((head * kept.Length + j) * HeadDim, HeadDim).ToArray());
        }

        // Full: all 4 layers of the model, every position, float32 — the skipped block 2 included.
        long bytesPerPosition = 2L * KvHeads * HeadDim * sizeof(float);
        Assert.Equal(ModelLayers * promptTokens * bytesPerPosition, trailer.BytesFull);
        long keptPositions = received.Layers.Sum(l => (long)l.Positions.Count);
        Assert.Equal(keptPositions * bytesPerPosition, trailer.BytesPrunedFloat32);
        long sentBytes = chunks.Sum(c => (long)c.Data.Length);
        Assert.Equal(sentBytes, trailer.BytesSent);
        Assert.Equal(sender.Accounting.Sent, sentBytes);
        long expectedSent = received.Layers.Sum(l => 2 * KvWireCodec.EncodedBytes(l.Shape, dtype));
        Assert.Equal(expectedSent, sentBytes);
        Assert.Equal(dtype switch
        {
            WireDtype.Float32 => trailer.BytesPrunedFloat32,
            WireDtype.Bfloat16 => trailer.BytesPrunedFloat32 / 2,
            _ => trailer.BytesPrunedFloat32 / 4 + SentLayers.Length * 2L * KvHeads * HeadDim * sizeof(float),
        }, trailer.BytesSent);
    }

    [Fact]
    public void The_token_aware_policy_sends_fewer_bytes_than_the_full_one_by_the_ratio_of_kept_positions()
    {
        const int promptTokens = 40;
        var (_, _, _, full) = Send(Layout(promptTokens, tokenAware: false, WireDtype.Float32), 1024);
        var (_, _, _, pruned) = Send(Layout(promptTokens, tokenAware: true, WireDtype.Float32), 1024);
        Assert.Equal(full.BytesFull, pruned.BytesFull);
        Assert.Equal(3.0 * promptTokens / (promptTokens + 2 * 8), (double)full.BytesSent / pruned.BytesSent, 12);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(640)] // exactly one whole tensor of layer 0 (2 heads × 40 positions × 8 dims × 2 bytes in bfloat16)
    [InlineData(641)]
    [InlineData(MessageLimits.DefaultChunkBytes)]
    public void Chunks_stay_within_their_limit_and_fill_each_tensor_back_to_back_at_any_boundary(int chunkBytes)
    {
        const int promptTokens = 40;
        KvTransferLayout layout = Layout(promptTokens, tokenAware: true, WireDtype.Bfloat16);
        var (_, header, chunks, trailer) = Send(layout, chunkBytes);

        Assert.All(chunks, c => Assert.InRange(c.Data.Length, 1, chunkBytes));
        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.Sequence));
        foreach (var tensor in chunks.GroupBy(c => (c.Layer, c.Part)))
        {
            long next = 0;
            foreach (KvChunk chunk in tensor)
            {
                Assert.Equal(next, chunk.Offset);
                next += chunk.Data.Length;
            }
            int kept = layout.Layers.Single(l => l.Layer == tensor.Key.Layer).Positions.Count;
            Assert.Equal(KvWireCodec.EncodedBytes(new KvTensorShape(KvHeads, kept, HeadDim), WireDtype.Bfloat16), next);
        }
        ReceivedKv received = Receive(header, chunks, trailer, Expected(promptTokens, chunkBytes));
        Assert.Equal(Delivered(PromptRows(promptTokens, 3, KvPart.Values), promptTokens, layout.Layers[2].Positions, WireDtype.Bfloat16),
            received.Layers[2].Values);
    }

    [Fact]
    public void A_byte_flipped_on_the_way_fails_the_checksum_and_nothing_is_decoded()
    {
        var (_, header, chunks, trailer) = Send(Layout(40, tokenAware: true, WireDtype.Int8), 256);
        byte[] tampered = chunks[4].Data.ToByteArray();
        tampered[tampered.Length / 2] ^= 0x10;
        chunks[4] = new KvChunk(chunks[4]) { Data = ByteString.CopyFrom(tampered) };

        var error = Assert.Throws<KvTransferException>(() => Receive(header, chunks, trailer, Expected(40, 256)));
        Assert.Equal(KvTransferFailure.DataLoss, error.Failure);
        Assert.Contains("chunk 4 is corrupt", error.Message);
    }

    [Fact]
    public void A_header_from_other_weights_another_plan_or_another_shape_is_incompatible()
    {
        KvHeader header = Send(Layout(10, tokenAware: false, WireDtype.Float32), 1024).Header;
        ExpectedKv expected = Expected(10, 1024);
        foreach (ExpectedKv other in new[] { expected with { ModelFingerprint = "other" }, expected with { PlanFingerprint = "other" }, expected with { HeadDim = 16 } })
            Assert.Equal(KvTransferFailure.Incompatible, Assert.Throws<KvTransferException>(() => Connector.StartReceiving(header, other)).Failure);
        Assert.Equal(KvTransferFailure.Protocol,
            Assert.Throws<KvTransferException>(() => Connector.StartReceiving(header, expected with { PromptTokens = 11 })).Failure);
    }

    [Fact]
    public void First_tokens_must_be_one_per_sample_and_inside_the_vocabulary()
    {
        var (_, header, chunks, trailer) = Send(Layout(10, tokenAware: false, WireDtype.Float32), 1024);
        Assert.Equal(KvTransferFailure.Protocol,
            Assert.Throws<KvTransferException>(() => Receive(header, chunks, trailer, Expected(10, 1024, samples: 2))).Failure);
        trailer.FirstTokens[0].TokenId = 100;
        Assert.Equal(KvTransferFailure.Protocol,
            Assert.Throws<KvTransferException>(() => Receive(header, chunks, trailer, Expected(10, 1024))).Failure);
    }

    [Fact]
    public void The_sender_refuses_a_layer_it_does_not_send_and_a_trailer_before_every_layer_was_sent()
    {
        KvSender sender = Connector.StartSending(Layout(10, tokenAware: false, WireDtype.Float32), 1024);
        Assert.False(sender.Sends(2));
        Assert.Throws<ArgumentException>(() => sender.Encode(2, KvPart.Keys, PromptRows(10, 2, KvPart.Keys)));
        Assert.Throws<ArgumentException>(() => sender.Encode(0, KvPart.Keys, new float[5]));
        sender.Encode(0, KvPart.Keys, PromptRows(10, 0, KvPart.Keys));
        Assert.Throws<InvalidOperationException>(() => sender.Trailer());
    }

    [Fact]
    public void A_layout_outside_the_prompt_or_the_model_is_refused()
    {
        KeptLayer[][] wrong = [[new KeptLayer(4, [0])], [new KeptLayer(0, [3, 3])], [new KeptLayer(0, [10])], [new KeptLayer(0, [])],
            [new KeptLayer(1, [0]), new KeptLayer(0, [0])]];
        foreach (KeptLayer[] layers in wrong)
            Assert.Throws<ArgumentException>(() => Connector.StartSending(new KvTransferLayout(10, KvHeads, HeadDim, ModelLayers, WireDtype.Float32, layers), 1024));
    }
}
