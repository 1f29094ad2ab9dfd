using PdServe.Engine.Model;
using static TorchSharp.torch;

namespace PdServe.Pruning.Evaluation;

/// <summary>
/// The prefill stage's work on a batch of prompts: its logits at every prompt position [B, n, vocab] and the KV
/// of every block it ran [B, kvHeads, n, headDim], which the decode stage reads. Owns its tensors.
/// </summary>
public sealed class PromptPass : IDisposable
{
    public PromptPass(Tensor logits, IReadOnlyDictionary<int, BlockKv> kv)
    {
        Logits = logits;
        Kv = kv;
    }

    public Tensor Logits { get; }
    public IReadOnlyDictionary<int, BlockKv> Kv { get; }
    public int PromptLength => (int)Logits.shape[1];

    public void Dispose()
    {
        Logits.Dispose();
        foreach (BlockKv kv in Kv.Values)
        {
            kv.Keys.Dispose();
            kv.Values.Dispose();
        }
    }
}
