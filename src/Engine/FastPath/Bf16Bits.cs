namespace PdServe.Engine.FastPath;

/// <summary>Conversions between f32 and raw bfloat16 bits (the upper half of an f32), as torch stores bf16.</summary>
public static class Bf16Bits
{
    /// <summary>The exact f32 value of a bf16: its bits shifted into the upper half.</summary>
    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>Rounds to the nearest bf16, ties to even, as torch's conversion does; NaN stays NaN.</summary>
    public static ushort FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040); // keep it a (quiet) NaN whatever its payload
        uint roundingBias = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + roundingBias) >> 16);
    }
}
