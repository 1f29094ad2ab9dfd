using PdServe.Engine.FastPath;

namespace PdServe.Engine.Tests.FastPath;

/// <summary>Seeded inputs, double-precision references and the ISA list shared by the fast-path kernel tests.</summary>
internal static class FastPathTestData
{
    /// <summary>Every level this CPU runs, each forced explicitly by the tests.</summary>
    public static TheoryData<KernelIsa> Isas()
    {
        var data = new TheoryData<KernelIsa>();
        foreach (KernelIsa isa in KernelCapabilities.Supported) data.Add(isa);
        return data;
    }

    public static float[] Gaussian(int count, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            // Box–Muller: two uniforms to one normal.
            double u = 1.0 - random.NextDouble(), v = random.NextDouble();
            values[i] = (float)(scale * Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
        }
        return values;
    }

    /// <summary>The values the kernels multiply by: the packed matrix widened or dequantized, [rows, columns].</summary>
    public static float[] Effective(PackedWeights weights)
    {
        var values = new float[weights.Rows * weights.Columns];
        for (int row = 0; row < weights.Rows; row++) weights.GetRow(row, values.AsSpan(row * weights.Columns, weights.Columns));
        return values;
    }

    /// <summary>y = x·Wᵀ + b in double, and Σ|w·x| per output (the scale of its rounding error).</summary>
    public static (double[] Y, double[] Magnitude) Reference(float[] w, float[]? bias, float[] x, int batch, int rows, int columns)
    {
        var y = new double[batch * rows];
        var magnitude = new double[batch * rows];
        for (int m = 0; m < batch; m++)
        {
            for (int n = 0; n < rows; n++)
            {
                double sum = bias?[n] ?? 0, abs = Math.Abs(bias?[n] ?? 0);
                for (int k = 0; k < columns; k++)
                {
                    double product = (double)w[n * columns + k] * x[m * columns + k];
                    sum += product;
                    abs += Math.Abs(product);
                }
                y[m * rows + n] = sum;
                magnitude[m * rows + n] = abs;
            }
        }
        return (y, magnitude);
    }

    /// <summary>
    /// Asserts |actual − expected| ≤ relative · magnitude for each element, naming the first that fails.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<float> actual, double[] expected, double[] magnitude, double relative, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            double bound = relative * magnitude[i] + 1e-30;
            if (!(error <= bound))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (error {error:g3} > bound {bound:g3})");
        }
    }

    /// <summary>The worst-case relative error of a K-term f32 dot product, (K + 2)·2⁻²⁴, as a bound on Σ|w·x|.</summary>
    public static double DotBound(int columns) => (columns + 2) * Math.Pow(2, -24);

    public static void AssertBitwiseEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]:R}, expected exactly {expected[i]:R}");
        }
    }
}
