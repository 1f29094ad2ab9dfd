using PdServe.Contracts;
using PdServe.KvTransfer.Accounting;
using PdServe.KvTransfer.Wire;

namespace PdServe.KvTransfer.Connector;

/// <summary>
/// The sending half of one transfer, on the prefill node: the header announcing the layout, then each layer's keys
/// and values as the model finishes the layer — the kept positions cut out of the whole prompt's rows, encoded in the
/// wire dtype (<see cref="KvWireCodec"/>), cut into checksummed chunks (<see cref="KvChunker"/>) — then the trailer
/// with the byte accounting, checked against the bytes actually chunked. Not thread-safe: one worker feeds it.
/// </summary>
public sealed class KvSender
{
    private readonly KvTransferLayout layout;
    private readonly Dictionary<int, IReadOnlyList<int>> keptByLayer;
    private readonly KvChunker chunker;

    /// <summary>Throws <see cref="ArgumentException"/> for a layout that does not fit its prompt and model.</summary>
    public KvSender(KvTransferLayout layout, int maxChunkBytes)
    {
        layout.Validate();
        this.layout = layout;
        chunker = new KvChunker(maxChunkBytes);
        keptByLayer = layout.Layers.ToDictionary(l => l.Layer, layout.SentPositions);
        Accounting = KvByteAccounting.ForDelta(layout.PromptTokens, layout.KvHeads, layout.HeadDim, layout.ModelLayers,
            layout.Layers.Select(l => l.Positions.Count).ToArray(), layout.Layers.Select(l => keptByLayer[l.Layer].Count).ToArray(),
            layout.WireDtype);
    }

    /// <summary>The bytes this transfer will cost once every layer is sent.</summary>
    public KvByteAccounting Accounting { get; }

    public KvHeader Header(string requestId, string modelFingerprint, string planFingerprint)
    {
        var header = new KvHeader
        {
            RequestId = requestId,
            ModelFingerprint = modelFingerprint,
            PlanFingerprint = planFingerprint,
            WireDtype = layout.WireDtype,
            PromptTokens = layout.PromptTokens,
            KvHeads = layout.KvHeads,
            HeadDim = layout.HeadDim,
            ReusedPrefixTokens = layout.ReusedPrefixTokens,
        };
        header.Layers.AddRange(layout.Layers.Select(l => PositionRanges.ForLayer(l.Layer, keptByLayer[l.Layer])));
        return header;
    }

    /// <summary>Whether the layout sends <paramref name="layer"/>.</summary>
    public bool Sends(int layer) => keptByLayer.ContainsKey(layer);

    /// <summary>
    /// The chunks of one layer's keys or values. <paramref name="promptRows"/> holds every prompt position,
    /// [kvHeads, promptTokens, headDim] float32 row-major; only the layout's positions of the layer that travel are
    /// encoded (none, and so no chunk, when a reused prefix holds them all; int8 still sends its scales).
    /// </summary>
    public IReadOnlyList<KvChunk> Encode(int layer, KvPart part, ReadOnlySpan<float> promptRows)
    {
        if (!keptByLayer.TryGetValue(layer, out IReadOnlyList<int>? kept))
            throw new ArgumentException($"the layout does not send layer {layer}", nameof(layer));
        var whole = new KvTensorShape(layout.KvHeads, layout.PromptTokens, layout.HeadDim);
        if (promptRows.Length != whole.ElementCount)
            throw new ArgumentException($"expected {whole.ElementCount} values for layer {layer} ({whole}), got {promptRows.Length}", nameof(promptRows));
        var shape = whole with { Positions = kept.Count };
        byte[] encoded = kept.Count == layout.PromptTokens
            ? KvWireCodec.Encode(promptRows, shape, layout.WireDtype)
            : KvWireCodec.Encode(Gather(promptRows, kept), shape, layout.WireDtype);
        return chunker.Chunk(layer, part, encoded);
    }

    /// <summary>The trailer's bytes and checksums; throws <see cref="InvalidOperationException"/> if a layer is missing or was sent twice.</summary>
    public KvTrailer Trailer()
    {
        if (Accounting.Sent != chunker.PayloadBytes)
            throw new InvalidOperationException($"sent {chunker.PayloadBytes} KV bytes, the accounting says {Accounting.Sent}");
        var trailer = new KvTrailer
        {
            BytesFull = Accounting.Full,
            BytesPrunedFloat32 = Accounting.PrunedFloat32,
            BytesSent = Accounting.Sent,
            BytesReused = Accounting.Reused,
        };
        trailer.ChunkChecksums.AddRange(chunker.Checksums);
        return trailer;
    }

    /// <summary>The rows of <paramref name="kept"/> positions, per head, in order.</summary>
    private float[] Gather(ReadOnlySpan<float> promptRows, IReadOnlyList<int> kept)
    {
        int headDim = layout.HeadDim, promptTokens = layout.PromptTokens;
        var rows = new float[(long)layout.KvHeads * kept.Count * headDim];
        for (int head = 0; head < layout.KvHeads; head++)
        {
            for (int i = 0; i < kept.Count; i++)
            {
                promptRows.Slice((head * promptTokens + kept[i]) * headDim, headDim)
                    .CopyTo(rows.AsSpan((head * kept.Count + i) * headDim, headDim));
            }
        }
        return rows;
    }
}
