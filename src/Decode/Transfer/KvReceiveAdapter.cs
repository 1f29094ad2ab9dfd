using PdServe.Engine.Generation;
using PdServe.Engine.Sampling;
using PdServe.KvTransfer.Connector;
using PdServe.KvTransfer.Wire;
using PdServe.NodeHosting.Mapping;
using static TorchSharp.torch;

namespace PdServe.Decode.Transfer;

/// <summary>The decode node's side of the KV connector, the only place tensors meet it: a verified transfer as the engine's prefilled prompt.</summary>
internal static class KvReceiveAdapter
{
    public static PrefilledPrompt ToPrompt(ReceivedKv received, IReadOnlyList<PromptTokenScore>? promptScores)
    {
        var blocks = new Dictionary<int, (Tensor, Tensor)>();
        try
        {
            foreach (ReceivedLayerKv layer in received.Layers)
            {
                long[] shape = [layer.Shape.KvHeads, layer.Shape.Positions, layer.Shape.HeadDim];
                blocks[layer.Layer] = (tensor(layer.Keys, shape), tensor(layer.Values, shape));
            }
        }
        catch
        {
            foreach ((Tensor keys, Tensor values) in blocks.Values)
            {
                keys.Dispose();
                values.Dispose();
            }
            throw;
        }
        return new PrefilledPrompt(blocks, received.Trailer.FirstTokens.OrderBy(t => t.SampleIndex).Select(TokenMapping.ToEngine).ToArray(),
            promptScores);
    }
}
