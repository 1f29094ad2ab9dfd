using PdServe.Contracts;
using PdServe.Engine.Planning;

namespace PdServe.NodeHosting.Mapping;

/// <summary>The plan's wire dtype (Engine) as the transfer contract names it.</summary>
public static class WireDtypes
{
    public static WireDtype ToWire(KvWireDtype dtype) => dtype switch
    {
        KvWireDtype.Float32 => WireDtype.Float32,
        KvWireDtype.BFloat16 => WireDtype.Bfloat16,
        KvWireDtype.Int8 => WireDtype.Int8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown wire dtype"),
    };
}
