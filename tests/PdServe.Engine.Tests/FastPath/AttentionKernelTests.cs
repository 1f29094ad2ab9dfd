using PdServe.Engine.FastPath;
using static PdServe.Engine.Tests.FastPath.FastPathTestData;

namespace PdServe.Engine.Tests.FastPath;

/// <summary>
/// Decode attention over a cache laid out as KvCache's [slot, kvHead, capacity, headDim], against a double
/// reference, with per-sequence lengths that differ (1, several chunks, a partial chunk) and GQA ratios 1, 2 and 3.
/// Everything past a sequence's length is NaN: a kernel that read one entry too many would return NaN.
/// Tolerance 2·10⁻⁶ of max|v|: the output is a convex combination of values, off by exp's and the sums' roundings.
/// </summary>
public class AttentionKernelTests
{
    public static TheoryData<KernelIsa, int, int, int> Cases()
    {
        var data = new TheoryData<KernelIsa, int, int, int>();
        foreach (KernelIsa isa in KernelCapabilities.Supported)
            foreach (var (heads, kvHeads) in new[] { (4, 4), (4, 2), (6, 2) })
                foreach (int headDim in new[] { 20, 64 })
                    data.Add(isa, heads, kvHeads, headDim);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Attention_over_each_sequence_s_stored_entries_matches_the_double_reference(KernelIsa isa, int heads, int kvHeads, int headDim)
    {
        int[] lengths = [1, 70, 130, 64, 9];
        int capacity = 136;
        var shape = new AttentionShape(heads, kvHeads, headDim);
        (float[] q, float[] k, float[] v) = Inputs(shape, lengths, capacity, seed: heads * 10 + kvHeads + headDim);
        var output = new float[lengths.Length * heads * headDim];

        AttentionKernel.Attend(isa, shape, q, k, v, capacity, lengths, output);

        double[] expected = Reference(shape, q, k, v, capacity, lengths);
        double bound = 2e-6 * v.Where(float.IsFinite).Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(output[i] - expected[i]) <= bound, $"{isa} {heads}/{kvHeads}×{headDim} [{i}]: {output[i]} vs {expected[i]}");
    }

    [Theory]
    [MemberData(nameof(Isas), MemberType = typeof(FastPathTestData))]
    public void Item_ranges_compute_bitwise_what_the_whole_step_computes(KernelIsa isa)
    {
        var shape = new AttentionShape(6, 3, 32);
        int[] lengths = [5, 100, 33];
        int capacity = 100;
        (float[] q, float[] k, float[] v) = Inputs(shape, lengths, capacity, seed: 50);
        var whole = new float[q.Length];
        AttentionKernel.Attend(isa, shape, q, k, v, capacity, lengths, whole);
        var pieces = new float[q.Length];
        int items = AttentionKernel.Items(shape, lengths.Length);
        foreach (var (start, end) in new[] { (0, 2), (2, 7), (7, items) })
            AttentionKernel.Attend(isa, shape, q, k, v, capacity, lengths, pieces, start, end);
        AssertBitwiseEqual(whole, pieces, $"{isa} split attention");
    }

    [Fact]
    public void A_sequence_without_entries_gets_zeros_and_lengths_beyond_the_capacity_are_refused()
    {
        var shape = new AttentionShape(2, 1, 16);
        (float[] q, float[] k, float[] v) = Inputs(shape, [0, 3], 8, seed: 51);
        var output = Enumerable.Repeat(float.NaN, q.Length).ToArray();
        AttentionKernel.Attend(KernelCapabilities.Best, shape, q, k, v, 8, [0, 3], output);
        Assert.All(output.AsSpan(0, 2 * 16).ToArray(), value => Assert.Equal(0f, value));
        Assert.All(output.AsSpan(2 * 16).ToArray(), value => Assert.True(float.IsFinite(value)));
        Assert.Throws<ArgumentOutOfRangeException>(() => AttentionKernel.Attend(KernelCapabilities.Best, shape, q, k, v, 8, [9, 3], output));
    }

    /// <summary>Queries [B, heads, headDim]; keys and values [B, kvHeads, capacity, headDim], NaN past each length.</summary>
    private static (float[] Q, float[] K, float[] V) Inputs(AttentionShape shape, int[] lengths, int capacity, int seed)
    {
        int batch = lengths.Length, headDim = shape.HeadDim;
        float[] q = Gaussian(batch * shape.Heads * headDim, seed);
        float[] k = Gaussian(batch * shape.KvHeads * capacity * headDim, seed + 1);
        float[] v = Gaussian(batch * shape.KvHeads * capacity * headDim, seed + 2);
        for (int b = 0; b < batch; b++)
        {
            for (int h = 0; h < shape.KvHeads; h++)
            {
                int start = ((b * shape.KvHeads + h) * capacity + lengths[b]) * headDim;
                int end = (b * shape.KvHeads + h + 1) * capacity * headDim;
                k.AsSpan(start, end - start).Fill(float.NaN);
                v.AsSpan(start, end - start).Fill(float.NaN);
            }
        }
        return (q, k, v);
    }

    private static double[] Reference(AttentionShape shape, float[] q, float[] k, float[] v, int capacity, int[] lengths)
    {
        int headDim = shape.HeadDim;
        var output = new double[q.Length];
        for (int b = 0; b < lengths.Length; b++)
        {
            for (int h = 0; h < shape.Heads; h++)
            {
                int kvHead = h / shape.GroupSize;
                int cache = (b * shape.KvHeads + kvHead) * capacity * headDim, query = (b * shape.Heads + h) * headDim;
                var scores = new double[lengths[b]];
                for (int t = 0; t < lengths[b]; t++)
                {
                    double dot = 0;
                    for (int d = 0; d < headDim; d++) dot += (double)q[query + d] * k[cache + t * headDim + d];
                    scores[t] = dot / Math.Sqrt(headDim);
                }
                double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                for (int t = 0; t < lengths[b]; t++)
                {
                    double p = Math.Exp(scores[t] - max) / sum;
                    for (int d = 0; d < headDim; d++) output[query + d] += p * v[cache + t * headDim + d];
                }
            }
        }
        return output;
    }
}
