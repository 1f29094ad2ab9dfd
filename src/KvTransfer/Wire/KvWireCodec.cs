using System.Buffers.Binary;
using System.Runtime.InteropServices;
using PdServe.Contracts;

namespace PdServe.KvTransfer.Wire;

/// <summary>
/// Encodes float32 KV tensors into the bytes of a wire dtype and back. All encodings are little-endian:
/// float32 as is; bfloat16 as the upper 16 bits of the float32 rounded to nearest even; int8 as one float32 scale per
/// channel (max |x| / 127 over the channel's positions) followed by round(x / scale) clamped to [-127, 127].
/// </summary>
public static class KvWireCodec
{
    /// <summary>Bytes one tensor of <paramref name="shape"/> takes in <paramref name="dtype"/>, scales included.</summary>
    public static long EncodedBytes(KvTensorShape shape, WireDtype dtype) => dtype switch
    {
        WireDtype.Float32 => shape.ElementCount * sizeof(float),
        WireDtype.Bfloat16 => shape.ElementCount * sizeof(ushort),
        WireDtype.Int8 => shape.Channels * (long)sizeof(float) + shape.ElementCount,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown wire dtype"),
    };

    public static byte[] Encode(ReadOnlySpan<float> values, KvTensorShape shape, WireDtype dtype)
    {
        if (values.Length != shape.ElementCount)
            throw new ArgumentException($"expected {shape.ElementCount} values for {shape}, got {values.Length}", nameof(values));
        var encoded = new byte[EncodedBytes(shape, dtype)];
        switch (dtype)
        {
            case WireDtype.Float32:
                MemoryMarshal.AsBytes(values).CopyTo(encoded);
                if (!BitConverter.IsLittleEndian) ReverseEndianness32(encoded);
                break;
            case WireDtype.Bfloat16:
                for (int i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteUInt16LittleEndian(encoded.AsSpan(2 * i), ToBfloat16(values[i]));
                break;
            case WireDtype.Int8:
                EncodeInt8(values, shape, encoded);
                break;
        }
        return encoded;
    }

    /// <summary>Decodes <paramref name="encoded"/> (exactly <see cref="EncodedBytes"/> long) into <paramref name="destination"/>.</summary>
    public static void Decode(ReadOnlySpan<byte> encoded, KvTensorShape shape, WireDtype dtype, Span<float> destination)
    {
        if (encoded.Length != EncodedBytes(shape, dtype))
            throw new ArgumentException($"expected {EncodedBytes(shape, dtype)} bytes for {shape} in {dtype}, got {encoded.Length}", nameof(encoded));
        if (destination.Length != shape.ElementCount)
            throw new ArgumentException($"expected room for {shape.ElementCount} values, got {destination.Length}", nameof(destination));
        switch (dtype)
        {
            case WireDtype.Float32:
                encoded.CopyTo(MemoryMarshal.AsBytes(destination));
                if (!BitConverter.IsLittleEndian) ReverseEndianness32(MemoryMarshal.AsBytes(destination));
                break;
            case WireDtype.Bfloat16:
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(encoded[(2 * i)..]) << 16);
                break;
            case WireDtype.Int8:
                DecodeInt8(encoded, shape, destination);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown wire dtype");
        }
    }

    /// <summary>bfloat16 bits of <paramref name="value"/>, rounded to nearest even; NaN stays a (quiet) NaN.</summary>
    public static ushort ToBfloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    private static void EncodeInt8(ReadOnlySpan<float> values, KvTensorShape shape, Span<byte> encoded)
    {
        int channels = shape.Channels, headDim = shape.HeadDim, positions = shape.Positions;
        var scales = new float[channels];
        for (int head = 0; head < shape.KvHeads; head++)
        {
            for (int position = 0; position < positions; position++)
            {
                ReadOnlySpan<float> row = values.Slice((head * positions + position) * headDim, headDim);
                Span<float> headScales = scales.AsSpan(head * headDim, headDim);
                for (int d = 0; d < headDim; d++) headScales[d] = Math.Max(headScales[d], Math.Abs(row[d]));
            }
        }
        for (int c = 0; c < channels; c++)
        {
            scales[c] /= 127f;
            BinaryPrimitives.WriteSingleLittleEndian(encoded[(c * sizeof(float))..], scales[c]);
        }
        Span<byte> quantized = encoded[(channels * sizeof(float))..];
        for (int head = 0; head < shape.KvHeads; head++)
        {
            for (int position = 0; position < positions; position++)
            {
                int rowStart = (head * positions + position) * headDim;
                for (int d = 0; d < headDim; d++)
                {
                    float scale = scales[head * headDim + d];
                    float q = scale == 0f ? 0f : MathF.Round(values[rowStart + d] / scale, MidpointRounding.ToEven);
                    quantized[rowStart + d] = (byte)(sbyte)Math.Clamp(q, -127f, 127f);
                }
            }
        }
    }

    private static void DecodeInt8(ReadOnlySpan<byte> encoded, KvTensorShape shape, Span<float> destination)
    {
        int channels = shape.Channels, headDim = shape.HeadDim, positions = shape.Positions;
        var scales = new float[channels];
        for (int c = 0; c < channels; c++) scales[c] = BinaryPrimitives.ReadSingleLittleEndian(encoded[(c * sizeof(float))..]);
        ReadOnlySpan<sbyte> quantized = MemoryMarshal.Cast<byte, sbyte>(encoded[(channels * sizeof(float))..]);
        for (int head = 0; head < shape.KvHeads; head++)
        {
            for (int position = 0; position < positions; position++)
            {
                int rowStart = (head * positions + position) * headDim;
                for (int d = 0; d < headDim; d++) destination[rowStart + d] = quantized[rowStart + d] * scales[head * headDim + d];
            }
        }
    }

    private static void ReverseEndianness32(Span<byte> bytes)
    {
        Span<uint> words = MemoryMarshal.Cast<byte, uint>(bytes);
        BinaryPrimitives.ReverseEndianness(words, words);
    }
}
