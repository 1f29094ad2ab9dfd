using PdServe.Contracts;
using PdServe.KvTransfer.Wire;

namespace PdServe.KvTransfer.Accounting;

/// <summary>
/// What a transfer costs in KV payload bytes, split so that each saving is visible on its own. <see cref="Full"/> is
/// the one meaning of "full" everywhere (trailer, request summary, metrics, benchmarks, the prune report's ratio): an
/// unpruned float32 transfer of the prompt — every layer of the model, every prompt position.
/// <see cref="PrunedFloat32"/> keeps only the layers sent and the positions they keep, still float32 (Full −
/// PrunedFloat32 is the pruning saving, blocks and positions); <see cref="Sent"/> is that in the wire dtype, int8
/// scales included (PrunedFloat32 − Sent is the dtype saving). <see cref="Reused"/> is what a receiver's reused prefix
/// saved beyond that: the bytes a transfer of the whole prompt (same layers, policy, dtype) would have sent, less Sent.
/// </summary>
public readonly record struct KvByteAccounting(long Full, long PrunedFloat32, long Sent, long Reused = 0)
{
    /// <param name="modelLayers">The whole model's depth: the layers a full transfer would send.</param>
    /// <param name="keptPositionsPerLayer">For each layer sent, how many prompt positions it keeps.</param>
    public static KvByteAccounting For(int promptTokens, int kvHeads, int headDim, int modelLayers,
        IReadOnlyCollection<int> keptPositionsPerLayer, WireDtype wireDtype)
    {
        if (keptPositionsPerLayer.Count > modelLayers)
            throw new ArgumentException($"{keptPositionsPerLayer.Count} layers sent of a {modelLayers}-layer model", nameof(keptPositionsPerLayer));
        // Keys and values: two tensors per layer.
        long full = modelLayers * 2 * KvWireCodec.EncodedBytes(new KvTensorShape(kvHeads, promptTokens, headDim), WireDtype.Float32);
        long pruned = 0, sent = 0;
        foreach (int kept in keptPositionsPerLayer)
        {
            var keptShape = new KvTensorShape(kvHeads, kept, headDim);
            pruned += 2 * KvWireCodec.EncodedBytes(keptShape, WireDtype.Float32);
            sent += 2 * KvWireCodec.EncodedBytes(keptShape, wireDtype);
        }
        return new KvByteAccounting(full, pruned, sent);
    }

    /// <summary>
    /// The accounting of a transfer that sends only <paramref name="sentPositionsPerLayer"/> of the
    /// <paramref name="keptPositionsPerLayer"/> (the receiver reuses the rest): pruned and sent bytes of what travels,
    /// and <see cref="Reused"/> = what the whole kept set would have cost in the wire dtype, less that.
    /// </summary>
    public static KvByteAccounting ForDelta(int promptTokens, int kvHeads, int headDim, int modelLayers,
        IReadOnlyCollection<int> keptPositionsPerLayer, IReadOnlyCollection<int> sentPositionsPerLayer, WireDtype wireDtype)
    {
        KvByteAccounting whole = For(promptTokens, kvHeads, headDim, modelLayers, keptPositionsPerLayer, wireDtype);
        KvByteAccounting delta = For(promptTokens, kvHeads, headDim, modelLayers, sentPositionsPerLayer, wireDtype);
        return delta with { Reused = whole.Sent - delta.Sent };
    }

    /// <summary>Full / Sent: how many times fewer bytes travel than an unpruned float32 transfer.</summary>
    public double Reduction => Sent == 0 ? 0 : (double)Full / Sent;
}
