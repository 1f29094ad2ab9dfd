using static TorchSharp.torch;

namespace PdServe.Engine.Cache;

/// <summary>
/// Keys and values [1, kvHeads, n, headDim] float32 (RoPE applied at their true positions) of n consecutive positions of
/// one decoder block: a cached prefix block's share of that decoder block's KV.
/// </summary>
public sealed record KvSegment(Tensor Keys, Tensor Values);
