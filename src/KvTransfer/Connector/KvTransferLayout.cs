using PdServe.Contracts;

namespace PdServe.KvTransfer.Connector;

/// <summary>
/// What one transfer carries, fixed before any KV exists: the prompt's length, the KV shape, the wire dtype and, for
/// each layer sent (ascending), the prompt positions it keeps — every position, or the token-aware policy's first F
/// and last L. <see cref="ModelLayers"/> is the whole model's depth, against which "full" bytes are counted.
/// With <see cref="ReusedPrefixTokens"/> P &gt; 0 the receiver already holds the positions before P (a parked
/// conversation): only the kept positions at or after P travel, and a layer whose kept positions all lie before P
/// sends nothing.
/// </summary>
public sealed record KvTransferLayout(int PromptTokens, int KvHeads, int HeadDim, int ModelLayers, WireDtype WireDtype,
    IReadOnlyList<KeptLayer> Layers, int ReusedPrefixTokens = 0)
{
    /// <summary>The kept positions of one layer that travel: those at or after <see cref="ReusedPrefixTokens"/>.</summary>
    public IReadOnlyList<int> SentPositions(KeptLayer layer) =>
        ReusedPrefixTokens == 0 ? layer.Positions : layer.Positions.Where(p => p >= ReusedPrefixTokens).ToArray();

    /// <summary>Throws <see cref="ArgumentException"/> for layers or positions that do not fit the prompt and the model.</summary>
    public void Validate()
    {
        if (PromptTokens < 1 || KvHeads < 1 || HeadDim < 1)
            throw new ArgumentException($"a transfer needs a prompt and a KV shape, got {PromptTokens} tokens, {KvHeads} heads × {HeadDim}");
        if (!Enum.IsDefined(WireDtype)) throw new ArgumentException($"unknown wire dtype {(int)WireDtype}");
        if (ReusedPrefixTokens < 0 || ReusedPrefixTokens >= PromptTokens)
            throw new ArgumentException($"a reused prefix of {ReusedPrefixTokens} tokens does not fit a {PromptTokens}-token prompt (0 to {PromptTokens - 1})");
        for (int i = 0; i < Layers.Count; i++)
        {
            KeptLayer layer = Layers[i];
            if (layer.Layer < 0 || layer.Layer >= ModelLayers || (i > 0 && layer.Layer <= Layers[i - 1].Layer))
                throw new ArgumentException($"layers must be ascending blocks of the {ModelLayers}-block model, got layer {layer.Layer} at {i}");
            IReadOnlyList<int> positions = layer.Positions;
            if (positions.Count == 0) throw new ArgumentException($"layer {layer.Layer} keeps no positions");
            for (int p = 0; p < positions.Count; p++)
            {
                if (positions[p] < 0 || positions[p] >= PromptTokens || (p > 0 && positions[p] <= positions[p - 1]))
                    throw new ArgumentException($"layer {layer.Layer}: positions must be ascending and inside the {PromptTokens}-token prompt");
            }
        }
    }
}
