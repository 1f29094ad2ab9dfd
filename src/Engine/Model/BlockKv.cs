using static TorchSharp.torch;

namespace PdServe.Engine.Model;

/// <summary>One block's keys and values [B, kvHeads, entries, headDim] in fp32, keys with RoPE applied at their true positions.</summary>
public sealed record BlockKv(Tensor Keys, Tensor Values);
