using static TorchSharp.torch;

namespace PdServe.Engine.Model;

/// <summary>
/// What one block did in a <see cref="CausalLm.ForwardPass"/>: its input and output hidden states [B, T, hidden]
/// (fp32), the keys and values it computed for the new positions [B, kvHeads, T, headDim], and, when recorded, its
/// attention weights [B, heads, T, prefix + T] (keys: the prefix entries, then the new positions).
/// </summary>
public sealed record BlockActivity(int Block, Tensor Input, Tensor Output, Tensor Keys, Tensor Values, Tensor? AttentionWeights);
