using PdServe.Contracts;
using PdServe.KvTransfer.Wire;

namespace PdServe.KvTransfer.Accounting;

/// <summary>
/// What a transfer costs in KV payload bytes, split so that each saving is visible on its own:
/// <see cref="Full"/> is an unpruned float32 transfer of the layers the decode node runs; <see cref="PrunedFloat32"/>
/// keeps only the positions the policy keeps, still float32 (Full − PrunedFloat32 is the pruning saving);
/// <see cref="Sent"/> is that in the wire dtype, int8 scales included (PrunedFloat32 − Sent is the dtype saving).
/// </summary>
public readonly record struct KvByteAccounting(long Full, long PrunedFloat32, long Sent)
{
    /// <param name="keptPositionsPerLayer">For each layer sent, how many prompt positions it keeps.</param>
    public static KvByteAccounting For(int promptTokens, int kvHeads, int headDim, IReadOnlyCollection<int> keptPositionsPerLayer,
        WireDtype wireDtype)
    {
        long full = 0, pruned = 0, sent = 0;
        foreach (int kept in keptPositionsPerLayer)
        {
            // Keys and values: two tensors per layer.
            full += 2 * KvWireCodec.EncodedBytes(new KvTensorShape(kvHeads, promptTokens, headDim), WireDtype.Float32);
            var keptShape = new KvTensorShape(kvHeads, kept, headDim);
            pruned += 2 * KvWireCodec.EncodedBytes(keptShape, WireDtype.Float32);
            sent += 2 * KvWireCodec.EncodedBytes(keptShape, wireDtype);
        }
        return new KvByteAccounting(full, pruned, sent);
    }

    /// <summary>Full / Sent: how many times fewer bytes travel than an unpruned float32 transfer.</summary>
    public double Reduction => Sent == 0 ? 0 : (double)Full / Sent;
}
