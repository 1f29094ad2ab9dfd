using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace PdServe.Engine.Runtime;

/// <summary>
/// The native address of a contiguous CPU tensor's data, for kernels that read or write it in place. TorchSharp's
/// <see cref="Tensor.bytes"/> is a zero-copy span over that memory; the address stays valid while the tensor lives and
/// is not reallocated.
/// </summary>
public static class TensorAddress
{
    public static unsafe nint Of(Tensor tensor)
    {
        if (!tensor.is_contiguous()) throw new ArgumentException("only a contiguous tensor has one address", nameof(tensor));
        if (tensor.device_type != TorchSharp.DeviceType.CPU) throw new ArgumentException("only a CPU tensor's memory is addressable here", nameof(tensor));
        Span<byte> bytes = tensor.bytes;
        return bytes.IsEmpty ? 0 : (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(bytes));
    }
}
