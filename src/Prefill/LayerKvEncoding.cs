using System.Runtime.InteropServices;
using PdServe.Contracts;
using PdServe.KvTransfer.Wire;
using static TorchSharp.torch;

namespace PdServe.Prefill;

/// <summary>Turns one layer's keys or values (a float32 tensor [kvHeads, prompt, headDim]) into wire bytes of the kept positions.</summary>
internal static class LayerKvEncoding
{
    public static byte[] Encode(Tensor kv, IReadOnlyList<int> keptPositions, WireDtype wireDtype)
    {
        using var scope = NewDisposeScope();
        long promptLength = kv.shape[1];
        Tensor kept = keptPositions.Count == promptLength
            ? kv.contiguous()
            : kv.index_select(1, tensor(keptPositions.Select(p => (long)p).ToArray())).contiguous();
        var shape = new KvTensorShape((int)kv.shape[0], keptPositions.Count, (int)kv.shape[2]);
        // bytes is a view of the tensor's memory: the only copy is the encoding itself.
        return KvWireCodec.Encode(MemoryMarshal.Cast<byte, float>(kept.bytes), shape, wireDtype);
    }
}
