namespace PdServe.KvTransfer.Wire;

/// <summary>
/// The shape of one layer's keys or values on the wire: [kvHeads, positions, headDim], row-major. A channel is one
/// (kv head, head dimension) pair; int8 scales are per channel because keys' magnitudes differ far more between
/// channels than between positions.
/// </summary>
public readonly record struct KvTensorShape(int KvHeads, int Positions, int HeadDim)
{
    public long ElementCount => (long)KvHeads * Positions * HeadDim;
    public int Channels => KvHeads * HeadDim;
}
