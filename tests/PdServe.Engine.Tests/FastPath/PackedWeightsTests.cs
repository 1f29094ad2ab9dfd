using PdServe.Engine.FastPath;
using static PdServe.Engine.Tests.FastPath.FastPathTestData;

namespace PdServe.Engine.Tests.FastPath;

/// <summary>Packing: aligned native memory, exact f32 and bf16 storage, bf16 rounding, shapes and disposal.</summary>
public class PackedWeightsTests
{
    [Fact]
    public void Packing_is_aligned_and_f32_rows_come_back_exactly()
    {
        int rows = 7, columns = 19;
        float[] w = Gaussian(rows * columns, seed: 1);
        float[] bias = Gaussian(rows, seed: 2);
        using PackedWeights packed = PackedWeights.FromFloat32(w, rows, columns, WeightFormat.F32, bias: bias);

        Assert.Equal(0, packed.Address % 64);
        Assert.Equal(2, packed.Tiles);
        Assert.Equal(2, packed.Blocks);
        // Two tiles of two 16-column blocks of 4 rows, plus the bias of both tiles.
        Assert.Equal(2 * 2 * 4 * 16 * 4 + 2 * 4 * 4, packed.SizeInBytes);
        AssertBitwiseEqual(w, Effective(packed), "f32 rows");
        for (int row = 0; row < rows; row++) Assert.Equal(bias[row], packed.Bias(row));
    }

    [Fact]
    public void Bf16_rounds_to_nearest_even_and_raw_bits_are_kept()
    {
        // 1 + 2⁻⁸ is halfway between two bf16 values (ties to the even 1.0); 1 + 3·2⁻⁸ ties up to 1 + 2⁻⁶;
        // just above a tie rounds up; NaN stays NaN; infinities and −0 are kept.
        float[] values = [1f + 1f / 256, 1f + 3f / 256, 1f + 1f / 256 + 1f / 65536, float.NaN, float.PositiveInfinity, -0f, -3.3f];
        float[] expected = [1f, 1f + 1f / 64, 1f + 1f / 128, float.NaN, float.PositiveInfinity, -0f, -3.296875f];
        using PackedWeights packed = PackedWeights.FromFloat32(values, 1, values.Length, WeightFormat.Bf16);
        AssertBitwiseEqual(expected.Select(v => float.IsNaN(v) ? Effective(packed)[3] : v).ToArray(), Effective(packed), "bf16");
        Assert.True(float.IsNaN(Effective(packed)[3]));

        ushort[] bits = [0x3F80, 0xC049, 0x7F80, 0x0001, 0x8000];
        using PackedWeights raw = PackedWeights.FromBFloat16(bits, 1, bits.Length, WeightFormat.Bf16);
        float[] row = Effective(raw);
        for (int i = 0; i < bits.Length; i++) Assert.Equal((uint)bits[i] << 16, BitConverter.SingleToUInt32Bits(row[i]));
    }

    [Fact]
    public void Bf16_sources_pack_into_every_format_from_their_exact_values()
    {
        int rows = 5, columns = 40;
        ushort[] bits = Gaussian(rows * columns, seed: 3).Select(Bf16Bits.FromSingle).ToArray();
        float[] widened = bits.Select(Bf16Bits.ToSingle).ToArray();
        foreach (WeightFormat format in Enum.GetValues<WeightFormat>())
        {
            using PackedWeights fromBits = PackedWeights.FromBFloat16(bits, rows, columns, format, 32);
            using PackedWeights fromFloats = PackedWeights.FromFloat32(widened, rows, columns, format, 32);
            AssertBitwiseEqual(Effective(fromFloats), Effective(fromBits), $"{format}");
        }
    }

    [Fact]
    public void Bad_shapes_and_groups_are_refused_and_disposed_weights_cannot_be_read()
    {
        Assert.Throws<ArgumentException>(() => PackedWeights.FromFloat32(new float[10], 3, 4, WeightFormat.F32));
        Assert.Throws<ArgumentException>(() => PackedWeights.FromFloat32(new float[12], 3, 4, WeightFormat.F32, bias: new float[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => PackedWeights.FromFloat32(new float[12], 3, 4, WeightFormat.Int8, groupSize: 24));
        Assert.Throws<ArgumentOutOfRangeException>(() => PackedWeights.FromFloat32([], 0, 4, WeightFormat.F32));
        PackedWeights packed = PackedWeights.FromFloat32(new float[12], 3, 4, WeightFormat.Int8, groupSize: 16);
        packed.Dispose();
        packed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => packed.GetRow(0, new float[4]));
    }
}
