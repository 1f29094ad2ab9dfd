using PdServe.Decode.Conversations;
using PdServe.Engine.Generation;
using PdServe.KvTransfer;
using PdServe.Engine.Sampling;
using PdServe.KvTransfer.Connector;
using PdServe.KvTransfer.Wire;
using PdServe.NodeHosting.Mapping;
using static TorchSharp.torch;

namespace PdServe.Decode.Transfer;

/// <summary>
/// The decode node's side of the KV connector, the only place tensors meet it: a verified transfer as the engine's
/// prefilled prompt — for a delta transfer, merged with the parked conversation it extends.
/// </summary>
internal static class KvReceiveAdapter
{
    public static PrefilledPrompt ToPrompt(ReceivedKv received, IReadOnlyList<PromptTokenScore>? promptScores, ConversationReuse? reuse = null)
    {
        var blocks = new Dictionary<int, (Tensor, Tensor)>();
        try
        {
            foreach (ReceivedLayerKv layer in received.Layers)
            {
                long[] shape = [layer.Shape.KvHeads, layer.Shape.Positions, layer.Shape.HeadDim];
                (Tensor Keys, Tensor Values) delta = (tensor(layer.Keys, shape), tensor(layer.Values, shape));
                if (reuse is null)
                {
                    blocks[layer.Layer] = delta;
                    continue;
                }
                using (delta.Keys)
                using (delta.Values)
                {
                    if (!layer.Positions.SequenceEqual(reuse.DeltaPositions(layer.Layer)))
                        throw new KvTransferException(KvTransferFailure.Protocol,
                            $"layer {layer.Layer} of the delta transfer holds positions other than the plan keeps after the reused prefix");
                    blocks[layer.Layer] = reuse.Merge(layer.Layer, delta.Keys, delta.Values);
                }
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
