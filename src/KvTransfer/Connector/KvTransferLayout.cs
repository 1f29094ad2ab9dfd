using PdServe.Contracts;

namespace PdServe.KvTransfer.Connector;

/// <summary>
/// What one transfer carries, fixed before any KV exists: the prompt's length, the KV shape, the wire dtype and, for
/// each layer sent (ascending), the prompt positions it keeps — every position, or the token-aware policy's first F
/// and last L. <see cref="ModelLayers"/> is the whole model's depth, against which "full" bytes are counted.
/// </summary>
public sealed record KvTransferLayout
{
    /// <summary>Throws <see cref="ArgumentException"/> for layers or positions that do not fit the prompt and the model.</summary>
    public KvTransferLayout(int promptTokens, int kvHeads, int headDim, int modelLayers, WireDtype wireDtype, IReadOnlyList<KeptLayer> layers)
    {
        if (promptTokens < 1 || kvHeads < 1 || headDim < 1)
            throw new ArgumentException($"a transfer needs a prompt and a KV shape, got {promptTokens} tokens, {kvHeads} heads × {headDim}");
        if (!Enum.IsDefined(wireDtype)) throw new ArgumentOutOfRangeException(nameof(wireDtype), wireDtype, "unknown wire dtype");
        for (int i = 0; i < layers.Count; i++)
        {
            KeptLayer layer = layers[i];
            if (layer.Layer < 0 || layer.Layer >= modelLayers || (i > 0 && layer.Layer <= layers[i - 1].Layer))
                throw new ArgumentException($"layers must be ascending blocks of the {modelLayers}-block model, got layer {layer.Layer} at {i}");
            IReadOnlyList<int> positions = layer.Positions;
            for (int p = 0; p < positions.Count; p++)
            {
                if (positions[p] < 0 || positions[p] >= promptTokens || (p > 0 && positions[p] <= positions[p - 1]))
                    throw new ArgumentException($"layer {layer.Layer}: positions must be ascending and inside the {promptTokens}-token prompt");
            }
            if (positions.Count == 0) throw new ArgumentException($"layer {layer.Layer} keeps no positions");
        }
        PromptTokens = promptTokens;
        KvHeads = kvHeads;
        HeadDim = headDim;
        ModelLayers = modelLayers;
        WireDtype = wireDtype;
        Layers = layers;
    }

    public int PromptTokens { get; }
    public int KvHeads { get; }
    public int HeadDim { get; }
    public int ModelLayers { get; }
    public WireDtype WireDtype { get; }
    public IReadOnlyList<KeptLayer> Layers { get; }
}
