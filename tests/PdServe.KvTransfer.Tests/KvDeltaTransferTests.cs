using PdServe.Contracts;
using PdServe.KvTransfer.Connector;
using PdServe.KvTransfer.Wire;

namespace PdServe.KvTransfer.Tests;

/// <summary>
/// A delta transfer (the receiver holds the prompt's first P positions from a parked conversation): only the kept
/// positions from P on travel, a layer with none left sends nothing, the accounting splits what travelled from what the
/// reuse saved, and a header that breaks the promise is refused.
/// </summary>
public class KvDeltaTransferTests
{
    private const int KvHeads = 2, HeadDim = 8, ModelLayers = 3, PromptTokens = 30;
    private const string Model = "m", Plan = "p";
    private static readonly IKvConnector Connector = new ChunkedKvConnector();
    private static readonly long BytesPerPosition = 2L * KvHeads * HeadDim * sizeof(float);

    /// <summary>Layer 0 keeps all 30 positions; layer 1 the first 2 and last 4 (26..29); layer 2 only the first 3.</summary>
    private static KvTransferLayout Layout(int reused, WireDtype dtype = WireDtype.Float32) => new(PromptTokens, KvHeads, HeadDim, ModelLayers, dtype,
    [
        new KeptLayer(0, Enumerable.Range(0, PromptTokens).ToArray()),
        new KeptLayer(1, [0, 1, 26, 27, 28, 29]),
        new KeptLayer(2, [0, 1, 2]),
    ], reused);

    private static float[] Rows(int layer) => Enumerable.Range(0, KvHeads * PromptTokens * HeadDim).Select(i => layer * 1000f + i).ToArray();

    private static ExpectedKv Expected(int reused) => new(Model, Plan, KvHeads, HeadDim, [0, 1, 2], PromptTokens, 1, 100, 4096, reused);

    private static (KvHeader Header, List<KvChunk> Chunks, KvTrailer Trailer) Send(KvTransferLayout layout)
    {
        KvSender sender = Connector.StartSending(layout, 4096);
        KvHeader header = sender.Header("r", Model, Plan);
        var chunks = new List<KvChunk>();
        foreach (int layer in new[] { 0, 1, 2 })
            foreach (KvPart part in new[] { KvPart.Keys, KvPart.Values })
                chunks.AddRange(sender.Encode(layer, part, Rows(layer)));
        KvTrailer trailer = sender.Trailer();
        trailer.FirstTokens.Add(new FirstToken { SampleIndex = 0, TokenId = 1 });
        return (header, chunks, trailer);
    }

    [Fact]
    public void Only_kept_positions_after_the_reused_prefix_travel_and_the_saving_is_counted_apart()
    {
        var (header, chunks, trailer) = Send(Layout(reused: 27));
        Assert.Equal(27, header.ReusedPrefixTokens);
        KvReceiver receiver = Connector.StartReceiving(header, Expected(27));
        foreach (KvChunk chunk in chunks) receiver.Accept(chunk);
        ReceivedKv received = receiver.Complete(trailer);

        Assert.Equal(new[] { 27, 28, 29 }, received.Layers[0].Positions);
        Assert.Equal(new[] { 27, 28, 29 }, received.Layers[1].Positions);
        Assert.Empty(received.Layers[2].Positions);
        Assert.DoesNotContain(chunks, c => c.Layer == 2);
        // Row 0 of head 0 of layer 0 is position 27's.
        Assert.Equal(Rows(0).AsSpan(27 * HeadDim, HeadDim).ToArray(), received.Layers[0].Keys.AsSpan(0, HeadDim).ToArray());

        Assert.Equal(ModelLayers * PromptTokens * BytesPerPosition, trailer.BytesFull);
        Assert.Equal(6 * BytesPerPosition, trailer.BytesSent);
        Assert.Equal(6 * BytesPerPosition, trailer.BytesPrunedFloat32);
        // A whole-prompt transfer would have sent 30 + 6 + 3 positions.
        Assert.Equal((39 - 6) * BytesPerPosition, trailer.BytesReused);
    }

    [Fact]
    public void Without_reuse_nothing_is_counted_as_reused_and_int8_still_sends_scales_for_an_emptied_layer()
    {
        var (_, _, whole) = Send(Layout(reused: 0));
        Assert.Equal(0, whole.BytesReused);
        Assert.Equal(39 * BytesPerPosition, whole.BytesSent);

        var (header, chunks, trailer) = Send(Layout(reused: 27, WireDtype.Int8));
        // Layer 2 has no position left, but its int8 payload is the per-channel scales alone.
        Assert.Contains(chunks, c => c.Layer == 2);
        KvReceiver receiver = Connector.StartReceiving(header, Expected(27));
        foreach (KvChunk chunk in chunks) receiver.Accept(chunk);
        Assert.Empty(receiver.Complete(trailer).Layers[2].Keys);
    }

    [Fact]
    public void A_layout_or_header_that_breaks_the_reused_prefix_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new KvSender(Layout(reused: PromptTokens), 4096));
        Assert.Throws<ArgumentException>(() => new KvSender(Layout(reused: -1), 4096));

        var (header, _, _) = Send(Layout(reused: 27));
        // The request asked for another prefix than the header echoes.
        var error = Assert.Throws<KvTransferException>(() => Connector.StartReceiving(header, Expected(20)));
        Assert.Equal(KvTransferFailure.Protocol, error.Failure);

        // A header that sends a position inside the prefix it claims to skip.
        var early = new KvHeader(header);
        early.Layers[0] = PositionRanges.ForLayer(0, [26, 27, 28, 29]);
        Assert.Contains("inside the reused prefix", Assert.Throws<KvTransferException>(() => Connector.StartReceiving(early, Expected(27))).Message);

        // Without reuse an empty layer is still a protocol error.
        var (whole, _, _) = Send(Layout(reused: 0));
        var emptied = new KvHeader(whole);
        emptied.Layers[2] = new LayerPositions { Layer = 2 };
        Assert.Contains("holds no prompt positions", Assert.Throws<KvTransferException>(() => Connector.StartReceiving(emptied, Expected(0))).Message);
    }
}
