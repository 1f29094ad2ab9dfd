using PdServe.Contracts;
using PdServe.KvTransfer.Wire;

namespace PdServe.KvTransfer.Tests;

public class KvWireCodecTests
{
    private static readonly KvTensorShape Shape = new(KvHeads: 2, Positions: 5, HeadDim: 4);

    /// <summary>Values whose channels differ in magnitude by up to 100×, as keys' channels do.</summary>
    private static float[] Values(KvTensorShape shape, int seed)
    {
        var random = new Random(seed);
        var values = new float[shape.ElementCount];
        for (int i = 0; i < values.Length; i++)
        {
            int channel = (int)(i / ((long)shape.Positions * shape.HeadDim)) * shape.HeadDim + i % shape.HeadDim;
            values[i] = (float)((random.NextDouble() * 2 - 1) * (1 + channel * 15));
        }
        return values;
    }

    private static float[] RoundTrip(float[] values, KvTensorShape shape, WireDtype dtype)
    {
        byte[] encoded = KvWireCodec.Encode(values, shape, dtype);
        Assert.Equal(KvWireCodec.EncodedBytes(shape, dtype), encoded.Length);
        var decoded = new float[values.Length];
        KvWireCodec.Decode(encoded, shape, dtype, decoded);
        return decoded;
    }

    [Fact]
    public void Encoded_sizes_are_four_two_and_one_byte_per_value_plus_int8_scales()
    {
        Assert.Equal(2 * 5 * 4 * 4, KvWireCodec.EncodedBytes(Shape, WireDtype.Float32));
        Assert.Equal(2 * 5 * 4 * 2, KvWireCodec.EncodedBytes(Shape, WireDtype.Bfloat16));
        Assert.Equal(2 * 4 * 4 + 2 * 5 * 4, KvWireCodec.EncodedBytes(Shape, WireDtype.Int8));
    }

    [Fact]
    public void Float32_round_trips_bit_for_bit_in_little_endian()
    {
        float[] values = Values(Shape, 1);
        values[3] = float.NaN;
        values[4] = -0f;
        float[] decoded = RoundTrip(values, Shape, WireDtype.Float32);
        Assert.Equal(values.Select(BitConverter.SingleToUInt32Bits), decoded.Select(BitConverter.SingleToUInt32Bits));
        byte[] encoded = KvWireCodec.Encode(values, Shape, WireDtype.Float32);
        Assert.Equal(BitConverter.SingleToUInt32Bits(values[0]) & 0xFF, encoded[0]);
    }

    [Fact]
    public void Bfloat16_rounds_to_nearest_even_and_keeps_eight_bits_of_mantissa()
    {
        Assert.Equal(0x3F80, KvWireCodec.ToBfloat16(1f));
        // 1 + 2^-8 is halfway between two bf16 values: ties go to the even mantissa (1.0).
        Assert.Equal(0x3F80, KvWireCodec.ToBfloat16(1f + MathF.Pow(2, -8)));
        // 1 + 3·2^-8 is halfway as well, between odd 0x3F81 and even 0x3F82.
        Assert.Equal(0x3F82, KvWireCodec.ToBfloat16(1f + 3 * MathF.Pow(2, -8)));
        Assert.Equal(0x3F81, KvWireCodec.ToBfloat16(1f + 1.1f * MathF.Pow(2, -8)));
        Assert.True(float.IsNaN(BitConverter.Int32BitsToSingle(KvWireCodec.ToBfloat16(float.NaN) << 16)));

        float[] values = Values(Shape, 2);
        float[] decoded = RoundTrip(values, Shape, WireDtype.Bfloat16);
        for (int i = 0; i < values.Length; i++)
            Assert.True(Math.Abs(decoded[i] - values[i]) <= Math.Abs(values[i]) * MathF.Pow(2, -8), $"value {i}: {values[i]} became {decoded[i]}");
    }

    [Fact]
    public void Int8_error_is_at_most_half_a_step_of_each_channels_own_scale()
    {
        float[] values = Values(Shape, 3);
        float[] decoded = RoundTrip(values, Shape, WireDtype.Int8);
        for (int i = 0; i < values.Length; i++)
        {
            int head = i / (Shape.Positions * Shape.HeadDim), d = i % Shape.HeadDim;
            float channelMax = Enumerable.Range(0, Shape.Positions)
                .Max(p => Math.Abs(values[(head * Shape.Positions + p) * Shape.HeadDim + d]));
            float step = channelMax / 127f;
            Assert.True(Math.Abs(decoded[i] - values[i]) <= step * 0.5001f, $"value {i}: {values[i]} became {decoded[i]} (step {step})");
        }
        // Each channel's largest magnitude is exactly representable (±127 steps).
        int largest = Array.IndexOf(values, values.MaxBy(Math.Abs));
        Assert.Equal(values[largest], decoded[largest], 5);
    }

    [Fact]
    public void Int8_of_an_all_zero_channel_decodes_to_zeros()
    {
        var values = new float[Shape.ElementCount];
        Assert.All(RoundTrip(values, Shape, WireDtype.Int8), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Wrong_sizes_are_refused()
    {
        Assert.Throws<ArgumentException>(() => KvWireCodec.Encode(new float[3], Shape, WireDtype.Float32));
        Assert.Throws<ArgumentException>(() => KvWireCodec.Decode(new byte[7], Shape, WireDtype.Float32, new float[Shape.ElementCount]));
    }
}
