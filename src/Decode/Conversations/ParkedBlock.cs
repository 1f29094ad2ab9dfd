using static TorchSharp.torch;

namespace PdServe.Decode.Conversations;

/// <summary>One block's parked entries: ascending prompt positions and their keys and values [kvHeads, positions, headDim].</summary>
public sealed record ParkedBlock(IReadOnlyList<int> Positions, Tensor Keys, Tensor Values);
