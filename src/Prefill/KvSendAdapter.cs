using System.Runtime.InteropServices;
using PdServe.Contracts;
using PdServe.KvTransfer.Connector;
using PdServe.NodeHosting;
using PdServe.NodeHosting.Mapping;
using static TorchSharp.torch;

namespace PdServe.Prefill;

/// <summary>
/// The prefill node's side of the KV connector, the only place tensors meet it: the plan's KV policy for one prompt
/// as the transfer's layout, and a layer's keys or values (a float32 tensor [kvHeads, prompt, headDim]) as the float
/// rows the sender encodes.
/// </summary>
internal static class KvSendAdapter
{
    /// <summary>
    /// The layers asked for, each with the positions the plan's token-aware policy keeps of this prompt; those before
    /// <paramref name="reusedPrefixTokens"/> stay behind (the caller holds them).
    /// </summary>
    public static KvTransferLayout Layout(StageModel model, IReadOnlyList<int> layers, int promptTokens, int reusedPrefixTokens = 0)
    {
        var config = model.Loaded.Model.Config;
        return new KvTransferLayout(promptTokens, config.NumKvHeads, config.HeadDim, config.NumLayers, WireDtypes.ToWire(model.KvPolicy.WireDtype),
            layers.Select(layer => new KeptLayer(layer, model.KvPolicy.KeptPositions(layer, promptTokens))).ToArray(), reusedPrefixTokens);
    }

    public static IReadOnlyList<KvChunk> Encode(KvSender sender, int layer, KvPart part, Tensor kv)
    {
        using var scope = NewDisposeScope();
        // bytes is a view of the tensor's memory: the only copies are the kept rows and their encoding.
        return sender.Encode(layer, part, MemoryMarshal.Cast<byte, float>(kv.contiguous().bytes));
    }
}
