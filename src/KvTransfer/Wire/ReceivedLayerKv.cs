namespace PdServe.KvTransfer.Wire;

/// <summary>One layer's verified, decoded KV: keys and values [kvHeads, positions, headDim] in float32, and which prompt positions they hold.</summary>
public sealed record ReceivedLayerKv(int Layer, IReadOnlyList<int> Positions, KvTensorShape Shape, float[] Keys, float[] Values);
