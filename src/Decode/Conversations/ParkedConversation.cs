using static TorchSharp.torch;

namespace PdServe.Decode.Conversations;

/// <summary>
/// A finished request's prompt KV kept for the conversation's next turn: the prompt's tokens and, for every block the
/// decode stage runs, the positions it holds (the token-aware policy's, for this prompt) with their keys and values
/// [kvHeads, positions, headDim] in float32 — exactly what a transfer of this prompt delivered. Only prompt positions
/// are kept, never generated ones: their KV came from the decode stage's (pruned) model, not the prefill node's, so
/// reusing it would make the next turn differ from a cold request.
/// </summary>
public sealed class ParkedConversation : IDisposable
{
    private readonly Dictionary<int, ParkedBlock> blocks;

    public ParkedConversation(IReadOnlyList<int> tokens, IReadOnlyDictionary<int, ParkedBlock> blocks)
    {
        Tokens = tokens.ToArray();
        this.blocks = blocks.ToDictionary(p => p.Key, p => p.Value);
        Bytes = this.blocks.Values.Sum(b => b.Keys.NumberOfElements + b.Values.NumberOfElements) * sizeof(float);
    }

    public IReadOnlyList<int> Tokens { get; }
    public long Bytes { get; }
    public ParkedBlock this[int block] => blocks[block];
    public bool Holds(int block) => blocks.ContainsKey(block);

    /// <summary>True when this conversation's tokens are a strict prefix of <paramref name="prompt"/>: it can serve it.</summary>
    public bool Prefixes(IReadOnlyList<int> prompt)
    {
        if (Tokens.Count >= prompt.Count) return false;
        for (int i = 0; i < Tokens.Count; i++)
        {
            if (Tokens[i] != prompt[i]) return false;
        }
        return true;
    }

    public void Dispose()
    {
        foreach (ParkedBlock block in blocks.Values)
        {
            block.Keys.Dispose();
            block.Values.Dispose();
        }
    }
}
