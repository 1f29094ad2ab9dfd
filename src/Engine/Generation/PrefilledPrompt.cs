using PdServe.Engine.Sampling;
using static TorchSharp.torch;

namespace PdServe.Engine.Generation;

/// <summary>
/// A prompt whose KV was computed elsewhere (a prefill node): for every block the decode stage runs, the keys and
/// values [kvHeads, kept positions, headDim] in float32 with RoPE applied at their true positions — possibly only some
/// of the prompt's positions — and the first token of each sample, already drawn from the prompt's logits (and the
/// prompt's scores, when asked for).
/// The engine takes ownership and frees the tensors once they are in its cache, or when the request ends first.
/// </summary>
public sealed class PrefilledPrompt : IDisposable
{
    private readonly Dictionary<int, (Tensor Keys, Tensor Values)> blocks;
    private bool disposed;

    public PrefilledPrompt(IReadOnlyDictionary<int, (Tensor Keys, Tensor Values)> blockKv, IReadOnlyList<SampledToken> firstTokens,
        IReadOnlyList<PromptTokenScore>? promptScores = null)
    {
        blocks = blockKv.ToDictionary(p => p.Key, p => p.Value);
        FirstTokens = firstTokens;
        PromptScores = promptScores;
    }

    public IReadOnlyList<SampledToken> FirstTokens { get; }
    /// <summary>The prompt's own tokens as the prefilling model scored them, when the request asked for them.</summary>
    public IReadOnlyList<PromptTokenScore>? PromptScores { get; }
    public IReadOnlyCollection<int> Blocks => blocks.Keys;

    public (Tensor Keys, Tensor Values) this[int block] => blocks[block];

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach ((Tensor keys, Tensor values) in blocks.Values)
        {
            keys.Dispose();
            values.Dispose();
        }
    }
}
