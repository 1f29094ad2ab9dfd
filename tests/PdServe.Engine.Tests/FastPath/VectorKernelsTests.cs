using PdServe.Engine.FastPath;
using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using static PdServe.Engine.Tests.FastPath.FastPathTestData;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.FastPath;

/// <summary>
/// The row kernels against double-precision references, on lengths that leave vector tails (1, 37) and a model
/// width (4096). Tolerances are relative to each reference element and stated per test; an index off by one
/// costs O(1) relative error.
/// </summary>
public class VectorKernelsTests
{
    private static readonly int[] Lengths = [1, 37, 4096];

    [Theory]
    [MemberData(nameof(Isas), MemberType = typeof(FastPathTestData))]
    public void RmsNorm_matches_the_double_reference(KernelIsa isa)
    {
        float epsilon = 1e-5f;
        foreach (int n in Lengths)
        {
            float[] x = Gaussian(n, seed: n, scale: 2f), weight = Gaussian(n, seed: n + 1);
            var y = new float[n];
            VectorKernels.RmsNorm(isa, x, weight, epsilon, y);
            double meanSquare = x.Sum(v => (double)v * v) / n;
            double inverse = 1 / Math.Sqrt(meanSquare + epsilon);
            // 2·10⁻⁵: the f32 sum of squares over 4096 terms plus three roundings, far below a wrong element's error.
            for (int i = 0; i < n; i++) AssertRelative(x[i] * inverse * weight[i], y[i], 2e-5, $"{isa} n={n} [{i}]");
        }
    }

    [Theory]
    [MemberData(nameof(Isas), MemberType = typeof(FastPathTestData))]
    public void AddRmsNorm_adds_the_residual_exactly_then_normalizes_it(KernelIsa isa)
    {
        float epsilon = 1e-6f;
        foreach (int n in Lengths)
        {
            float[] residual = Gaussian(n, seed: 2 * n), delta = Gaussian(n, seed: 2 * n + 1), weight = Gaussian(n, seed: 7);
            float[] sum = residual.Zip(delta, (a, b) => a + b).ToArray();
            var expected = new float[n];
            VectorKernels.RmsNorm(isa, sum, weight, epsilon, expected);
            var normed = new float[n];

            VectorKernels.AddRmsNorm(isa, residual, delta, weight, epsilon, normed);

            AssertBitwiseEqual(sum, residual, $"{isa} residual n={n}");
            AssertBitwiseEqual(expected, normed, $"{isa} normed n={n}");
        }
    }

    [Theory]
    [MemberData(nameof(Isas), MemberType = typeof(FastPathTestData))]
    public void Add_is_the_elementwise_f32_sum(KernelIsa isa)
    {
        foreach (int n in Lengths)
        {
            float[] a = Gaussian(n, seed: 3 * n), b = Gaussian(n, seed: 3 * n + 1);
            float[] expected = a.Zip(b, (p, q) => p + q).ToArray();
            VectorKernels.Add(isa, a, b);
            AssertBitwiseEqual(expected, a, $"{isa} n={n}");
        }
    }

    [Theory]
    [MemberData(nameof(Isas), MemberType = typeof(FastPathTestData))]
    public void SwiGlu_matches_the_double_reference_including_saturated_gates(KernelIsa isa)
    {
        foreach (int n in Lengths)
        {
            float[] gate = Gaussian(n, seed: 4 * n, scale: 3f), up = Gaussian(n, seed: 4 * n + 1);
            float[] extremes = [-100f, -30f, 30f, 100f];
            for (int i = 0; i < Math.Min(n, extremes.Length); i++) gate[i] = extremes[i];
            var y = new float[n];
            VectorKernels.SwiGlu(isa, gate, up, y);
            // 4·10⁻⁶: a few ulps of exp, a division and a product.
            for (int i = 0; i < n; i++)
                AssertRelative(gate[i] / (1 + Math.Exp(-(double)gate[i])) * up[i], y[i], 4e-6, $"{isa} n={n} [{i}] gate {gate[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Isas), MemberType = typeof(FastPathTestData))]
    public void Softmax_matches_the_double_reference(KernelIsa isa)
    {
        foreach (int n in new[] { 1, 5, 37, 1000 })
        {
            float[] x = Gaussian(n, seed: 5 * n, scale: 4f);
            if (n > 2) x[1] = 100f; // e^100 overflows f32: only the subtracted maximum keeps the row finite
            double max = x.Max();
            double sum = x.Sum(v => Math.Exp(v - max));
            double[] expected = x.Select(v => Math.Exp(v - max) / sum).ToArray();
            VectorKernels.Softmax(isa, x);
            // 4·10⁻⁶ relative plus 10⁻¹² absolute: exp's few ulps and an f32 sum of at most 1000 terms ≤ 1.
            for (int i = 0; i < n; i++)
                Assert.True(Math.Abs(x[i] - expected[i]) <= 4e-6 * expected[i] + 1e-12, $"{isa} n={n} [{i}]: {x[i]} vs {expected[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Isas), MemberType = typeof(FastPathTestData))]
    public void Rope_rotates_each_pair_i_and_i_plus_half_by_the_position_angle(KernelIsa isa)
    {
        foreach (int headDim in new[] { 20, 64, 128 })
        {
            int heads = 3, position = 37;
            double[] frequencies = Enumerable.Range(0, headDim / 2).Select(i => 1 / Math.Pow(10000, 2.0 * i / headDim)).ToArray();
            var table = new RopeTable(frequencies, position + 1);
            float[] x = Gaussian(heads * headDim, seed: headDim);
            float[] original = (float[])x.Clone();

            VectorKernels.Rope(isa, x, headDim, table.Cos(position), table.Sin(position));

            int half = headDim / 2;
            for (int h = 0; h < heads; h++)
            {
                for (int i = 0; i < half; i++)
                {
                    double angle = position * frequencies[i];
                    double a = original[h * headDim + i], b = original[h * headDim + i + half];
                    // 10⁻⁶ of the pair's norm: the f32 table values and two roundings.
                    double norm = Math.Sqrt(a * a + b * b);
                    Assert.True(Math.Abs(x[h * headDim + i] - (a * Math.Cos(angle) - b * Math.Sin(angle))) <= 1e-6 * norm + 1e-30);
                    Assert.True(Math.Abs(x[h * headDim + i + half] - (b * Math.Cos(angle) + a * Math.Sin(angle))) <= 1e-6 * norm + 1e-30);
                }
            }
        }
    }

    /// <summary>
    /// With the model's own frequencies (llama3 scaling here), the kernel is bitwise the torch RotaryEmbedding, at
    /// positions on both sides of the scaled band.
    /// </summary>
    [Theory]
    [MemberData(nameof(Isas), MemberType = typeof(FastPathTestData))]
    public void Rope_is_bitwise_the_torch_rotary_embedding_with_llama3_scaling(KernelIsa isa)
    {
        var config = new ModelConfig
        {
            Architecture = "LlamaForCausalLM",
            VocabSize = 16,
            HiddenSize = 256,
            IntermediateSize = 64,
            NumLayers = 1,
            NumHeads = 4,
            NumKvHeads = 2,
            HeadDim = 64,
            RopeTheta = 500000,
            MaxPositionEmbeddings = 16384,
            RopeScaling = new RopeScaling("llama3", 8.0, 1.0, 4.0, 8192),
        };
        long[] positions = [0, 1, 7, 100, 2049, 8191, 12000];
        int heads = config.NumHeads, headDim = config.HeadDim;
        float[] x = Gaussian(positions.Length * heads * headDim, seed: 40);
        var table = new RopeTable(RotaryEmbedding.ComputeInverseFrequencies(config), (int)positions.Max() + 1);

        float[] expected;
        using (var rope = new RotaryEmbedding(config))
        using (var scope = NewDisposeScope())
        {
            Tensor input = tensor(x, [1, positions.Length, heads, headDim]);
            expected = rope.Apply(input, tensor(positions, [1, positions.Length]), (int)positions.Max()).data<float>().ToArray();
        }
        for (int p = 0; p < positions.Length; p++)
        {
            Span<float> row = x.AsSpan(p * heads * headDim, heads * headDim);
            VectorKernels.Rope(isa, row, headDim, table.Cos((int)positions[p]), table.Sin((int)positions[p]));
        }

        AssertBitwiseEqual(expected, x, $"{isa} rope");
    }

    [Fact]
    public void Rope_table_rows_are_the_rounded_double_angles_and_survive_growth()
    {
        double[] frequencies = [1.0, 0.1, 0.003];
        var table = new RopeTable(frequencies, 4);
        float[] before = table.Cos(3).ToArray();
        table.EnsurePositions(1000);
        Assert.True(table.Positions >= 1000);
        Assert.Equal(before, table.Cos(3).ToArray());
        for (int p = 0; p < 1000; p += 37)
        {
            for (int i = 0; i < frequencies.Length; i++)
            {
                Assert.Equal((float)Math.Cos(p * frequencies[i]), table.Cos(p)[i]);
                Assert.Equal((float)Math.Sin(p * frequencies[i]), table.Sin(p)[i]);
            }
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => table.Cos(table.Positions));
    }

    private static void AssertRelative(double expected, float actual, double relative, string what)
    {
        double error = Math.Abs(actual - expected);
        if (!(error <= relative * Math.Abs(expected) + 1e-30))
            Assert.Fail($"{what}: {actual} vs {expected} (relative error {error / Math.Abs(expected):g3})");
    }
}
