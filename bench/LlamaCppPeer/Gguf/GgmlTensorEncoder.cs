using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace LlamaCppPeer.Gguf;

/// <summary>Turns fp32 values (rows of <c>rowLength</c>, row-major) into the bytes ggml stores for a tensor type.</summary>
public static class GgmlTensorEncoder
{
    public static byte[] Encode(ReadOnlySpan<float> values, long rowLength, GgmlType type)
    {
        if (rowLength <= 0 || values.Length % rowLength != 0)
            throw new ArgumentException($"{values.Length} values are not whole rows of {rowLength}", nameof(rowLength));
        long rows = values.Length / rowLength;
        var bytes = new byte[rows * GgmlTypeSizes.RowBytes(type, rowLength)];
        switch (type)
        {
            case GgmlType.F32:
                MemoryMarshal.AsBytes(values).CopyTo(bytes);
                break;
            case GgmlType.F16:
                for (int i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), BitConverter.HalfToUInt16Bits((Half)values[i]));
                break;
            case GgmlType.BF16:
                for (int i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), ToBFloat16(values[i]));
                break;
            case GgmlType.Q8_0:
                // Rows are whole blocks, so the blocks of all rows follow each other without a gap.
                for (int block = 0; block < values.Length / GgmlTypeSizes.Q8_0BlockElements; block++)
                    EncodeQ8_0Block(values.Slice(block * GgmlTypeSizes.Q8_0BlockElements, GgmlTypeSizes.Q8_0BlockElements),
                        bytes.AsSpan(block * GgmlTypeSizes.Q8_0BlockBytes, GgmlTypeSizes.Q8_0BlockBytes));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }
        return bytes;
    }

    /// <summary>
    /// bf16 by rounding to nearest, ties to even (what torch's fp32 → bf16 cast does), so a bf16 checkpoint read as
    /// fp32 comes back bit for bit.
    /// </summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    /// <summary>
    /// One Q8_0 block: scale d = max|x| / 127 stored as f16, values round(x / d) as int8 (halves away from zero),
    /// as ggml's own quantizer computes them, so the file matches what llama.cpp's converter would write.
    /// </summary>
    private static void EncodeQ8_0Block(ReadOnlySpan<float> block, Span<byte> destination)
    {
        float absMax = 0;
        foreach (float x in block) absMax = MathF.Max(absMax, MathF.Abs(x));
        float scale = absMax / 127f;
        float inverse = scale != 0 ? 1f / scale : 0f;
        BinaryPrimitives.WriteUInt16LittleEndian(destination, BitConverter.HalfToUInt16Bits((Half)scale));
        for (int i = 0; i < block.Length; i++)
            destination[2 + i] = (byte)(sbyte)MathF.Round(block[i] * inverse, MidpointRounding.AwayFromZero);
    }
}
