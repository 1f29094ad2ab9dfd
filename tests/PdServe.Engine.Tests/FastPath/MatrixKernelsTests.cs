using PdServe.Engine.FastPath;
using static PdServe.Engine.Tests.FastPath.FastPathTestData;

namespace PdServe.Engine.Tests.FastPath;

/// <summary>
/// The f32-activation matrix kernels against a double-precision reference on the values the packed matrix holds,
/// for every ISA this CPU runs, every format and the awkward sizes: K not a multiple of 16 or of the int8 group,
/// N not a multiple of the 4-row tile, batches that leave remainders of the register blocking (1, 3, 5, 16, 17).
/// Tolerance: the worst-case f32 dot-product bound (K + 2)·2⁻²⁴·Σ|w·x|, about 2·10⁻⁵ of Σ|w·x| at K = 300 — a
/// wrong index or a missed block costs ~Σ|w·x|/√K, thousands of times more.
/// </summary>
public class MatrixKernelsTests
{
    public static TheoryData<KernelIsa, WeightFormat, int, int, int, int> Cases()
    {
        var data = new TheoryData<KernelIsa, WeightFormat, int, int, int, int>();
        (int Rows, int Columns, int Group)[] shapes = [(13, 37, 32), (8, 16, 16), (33, 100, 64), (6, 300, 128), (7, 1100, 32)];
        foreach (KernelIsa isa in KernelCapabilities.Supported)
            foreach (WeightFormat format in Enum.GetValues<WeightFormat>())
                foreach (int batch in new[] { 1, 3, 5, 16, 17 })
                    foreach (var (rows, columns, group) in shapes)
                        if (columns < 1000 || batch == 16) data.Add(isa, format, batch, rows, columns, group);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Product_matches_the_double_reference(KernelIsa isa, WeightFormat format, int batch, int rows, int columns, int group)
    {
        float[] w = Gaussian(rows * columns, seed: rows * 31 + columns);
        float[] bias = Gaussian(rows, seed: 5);
        float[] x = Gaussian(batch * columns, seed: batch + 100);
        using PackedWeights packed = PackedWeights.FromFloat32(w, rows, columns, format, group, bias);
        var y = new float[batch * rows];

        MatrixKernels.Multiply(isa, packed, x, batch, y);

        (double[] expected, double[] magnitude) = Reference(Effective(packed), bias, x, batch, rows, columns);
        AssertClose(y, expected, magnitude, DotBound(columns), $"{isa} {format} {batch}×{columns}→{rows}");
    }

    [Theory]
    [MemberData(nameof(Isas), MemberType = typeof(FastPathTestData))]
    public void Bf16_weights_give_bitwise_the_f32_result_on_their_widened_values(KernelIsa isa)
    {
        int rows = 11, columns = 75, batch = 6;
        float[] w = Gaussian(rows * columns, seed: 1);
        float[] x = Gaussian(batch * columns, seed: 2);
        ushort[] bits = w.Select(Bf16Bits.FromSingle).ToArray();
        float[] widened = bits.Select(Bf16Bits.ToSingle).ToArray();
        using PackedWeights bf16 = PackedWeights.FromBFloat16(bits, rows, columns, WeightFormat.Bf16);
        using PackedWeights f32 = PackedWeights.FromFloat32(widened, rows, columns, WeightFormat.F32);
        var fromBf16 = new float[batch * rows];
        var fromF32 = new float[batch * rows];

        MatrixKernels.Multiply(isa, bf16, x, batch, fromBf16);
        MatrixKernels.Multiply(isa, f32, x, batch, fromF32);

        AssertBitwiseEqual(fromF32, fromBf16, $"{isa} bf16 vs f32");
    }

    [Theory]
    [MemberData(nameof(Isas), MemberType = typeof(FastPathTestData))]
    public void Int8_weights_give_bitwise_the_f32_result_on_their_dequantized_values(KernelIsa isa)
    {
        int rows = 9, columns = 150, batch = 5;
        float[] w = Gaussian(rows * columns, seed: 3);
        float[] x = Gaussian(batch * columns, seed: 4);
        using PackedWeights int8 = PackedWeights.FromFloat32(w, rows, columns, WeightFormat.Int8, groupSize: 32);
        using PackedWeights f32 = PackedWeights.FromFloat32(Effective(int8), rows, columns, WeightFormat.F32);
        var fromInt8 = new float[batch * rows];
        var fromF32 = new float[batch * rows];

        MatrixKernels.Multiply(isa, int8, x, batch, fromInt8);
        MatrixKernels.Multiply(isa, f32, x, batch, fromF32);

        AssertBitwiseEqual(fromF32, fromInt8, $"{isa} int8 vs f32");
    }

    [Theory]
    [MemberData(nameof(Isas), MemberType = typeof(FastPathTestData))]
    public void A_row_gives_bitwise_the_same_result_alone_as_in_any_batch(KernelIsa isa)
    {
        int rows = 10, columns = 600, batch = 16; // two panels: the batched path splits the columns, the single row does not
        foreach (WeightFormat format in Enum.GetValues<WeightFormat>())
        {
            using PackedWeights packed = PackedWeights.FromFloat32(Gaussian(rows * columns, seed: 6), rows, columns, format, 64);
            float[] x = Gaussian(batch * columns, seed: 7);
            var batched = new float[batch * rows];
            MatrixKernels.Multiply(isa, packed, x, batch, batched);
            for (int m = 0; m < batch; m++)
            {
                var alone = new float[rows];
                MatrixKernels.Multiply(isa, packed, x.AsSpan(m * columns, columns), 1, alone);
                AssertBitwiseEqual(batched.AsSpan(m * rows, rows), alone, $"{isa} {format} row {m}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Isas), MemberType = typeof(FastPathTestData))]
    public void A_row_range_writes_only_its_rows_and_matches_the_whole_product(KernelIsa isa)
    {
        int rows = 23, columns = 41, batch = 3;
        using PackedWeights packed = PackedWeights.FromFloat32(Gaussian(rows * columns, seed: 8), rows, columns, WeightFormat.Bf16);
        float[] x = Gaussian(batch * columns, seed: 9);
        var whole = new float[batch * rows];
        MatrixKernels.Multiply(isa, packed, x, batch, whole);

        // Unaligned ranges too: a tile straddling two ranges is computed by both, each writing only its own rows.
        foreach (var (start, end) in new[] { (0, 4), (4, 13), (13, 22), (22, 23), (5, 5) })
        {
            float[] part = Enumerable.Repeat(float.NaN, batch * rows).ToArray();
            MatrixKernels.Multiply(isa, packed, x, batch, part, start, end);
            for (int m = 0; m < batch; m++)
            {
                for (int n = 0; n < rows; n++)
                {
                    float value = part[m * rows + n];
                    if (n >= start && n < end) Assert.Equal(whole[m * rows + n], value);
                    else Assert.True(float.IsNaN(value), $"row {n} is outside [{start}, {end}) but was written");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Isas), MemberType = typeof(FastPathTestData))]
    public void Strided_inputs_and_outputs_read_and_write_only_their_rows(KernelIsa isa)
    {
        int rows = 6, columns = 20, batch = 3, xStride = 29, yStride = 11;
        using PackedWeights packed = PackedWeights.FromFloat32(Gaussian(rows * columns, seed: 10), rows, columns, WeightFormat.F32);
        float[] dense = Gaussian(batch * columns, seed: 11);
        float[] strided = Enumerable.Repeat(float.NaN, batch * xStride).ToArray(); // NaN between the rows must never be read
        for (int m = 0; m < batch; m++) dense.AsSpan(m * columns, columns).CopyTo(strided.AsSpan(m * xStride));
        float[] y = Enumerable.Repeat(-1f, batch * yStride).ToArray();
        var expected = new float[batch * rows];
        MatrixKernels.Multiply(isa, packed, dense, batch, expected);

        MatrixKernels.Multiply(isa, packed, strided, xStride, batch, y, yStride, 0, rows);

        for (int m = 0; m < batch; m++)
        {
            AssertBitwiseEqual(expected.AsSpan(m * rows, rows), y.AsSpan(m * yStride, rows), $"row {m}");
            Assert.All(y.AsSpan(m * yStride + rows, yStride - rows).ToArray(), v => Assert.Equal(-1f, v));
        }
    }

    [Fact]
    public void Bad_shapes_are_refused()
    {
        using PackedWeights packed = PackedWeights.FromFloat32(new float[8 * 5], 8, 5, WeightFormat.F32);
        KernelIsa isa = KernelCapabilities.Best;
        Assert.Throws<ArgumentException>(() => MatrixKernels.Multiply(isa, packed, new float[4], 1, new float[8]));
        Assert.Throws<ArgumentException>(() => MatrixKernels.Multiply(isa, packed, new float[5], 1, new float[7]));
        Assert.Throws<ArgumentOutOfRangeException>(() => MatrixKernels.Multiply(isa, packed, new float[5], 1, new float[8], 3, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => MatrixKernels.Multiply(isa, packed, new float[5], 0, new float[8]));
        packed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => MatrixKernels.Multiply(isa, packed, new float[5], 1, new float[8]));
    }
}
