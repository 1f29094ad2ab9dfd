using PdServe.Engine.FastPath;
using static PdServe.Engine.Tests.FastPath.FastPathTestData;

namespace PdServe.Engine.Tests.FastPath;

/// <summary>
/// The fused LM head over a vocabulary of 1300 (two full chunks and a partial one, not a multiple of 16), with
/// planted exact ties (duplicate embedding rows give bitwise equal logits), against the kernel's own full logits
/// (the ranking must be exactly theirs) and a double reference (logits within the dot-product bound, log-sum-exp
/// within 10⁻⁵ absolute).
/// </summary>
public class LmHeadSelectorTests
{
    private const int Vocabulary = 1300, Hidden = 40, TopK = 7;

    public static TheoryData<KernelIsa, WeightFormat, int> Cases()
    {
        var data = new TheoryData<KernelIsa, WeightFormat, int>();
        foreach (KernelIsa isa in KernelCapabilities.Supported)
            foreach (WeightFormat format in Enum.GetValues<WeightFormat>())
                foreach (int batch in new[] { 1, 3, 17 })
                    data.Add(isa, format, batch);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Selection_equals_the_ranking_of_the_full_logits_and_the_double_reference(KernelIsa isa, WeightFormat format, int batch)
    {
        (float[] embedding, float[] hidden) = Inputs(batch, seed: batch);
        using PackedWeights head = PackedWeights.FromFloat32(embedding, Vocabulary, Hidden, format, 32);
        using var selector = new LmHeadSelector(head, maxBatch: batch, TopK, workers: 1) { Isa = isa };
        var logits = new float[batch * Vocabulary];
        selector.Select(hidden, batch, logits);

        var direct = new float[batch * Vocabulary];
        MatrixKernels.Multiply(isa, head, hidden, batch, direct);
        AssertBitwiseEqual(direct, logits, "the full-row variant writes the kernel's logits");
        (double[] exact, double[] magnitude) = Reference(Effective(head), null, hidden, batch, Vocabulary, Hidden);
        AssertClose(logits, exact, magnitude, DotBound(Hidden), "logits");

        for (int m = 0; m < batch; m++)
        {
            float[] row = logits.AsSpan(m * Vocabulary, Vocabulary).ToArray();
            int[] ranked = Enumerable.Range(0, Vocabulary).OrderByDescending(t => row[t]).ThenBy(t => t).Take(TopK).ToArray();
            Assert.Equal(ranked, selector.TopIds(m).ToArray());
            Assert.Equal(ranked.Select(t => row[t]).ToArray(), selector.TopLogits(m).ToArray());
            Assert.Equal(ranked[0], selector.ArgMax(m));
            Assert.Equal(row.Max(), selector.MaxLogit(m));
            double max = exact.AsSpan(m * Vocabulary, Vocabulary).ToArray().Max();
            double lse = max + Math.Log(exact.AsSpan(m * Vocabulary, Vocabulary).ToArray().Sum(l => Math.Exp(l - max)));
            Assert.True(Math.Abs(selector.LogSumExp(m) - lse) <= 1e-5, $"log-sum-exp {selector.LogSumExp(m)} vs {lse}");
        }

        // Without the logits buffer: the same selection, bit for bit.
        using var lean = new LmHeadSelector(head, maxBatch: batch, TopK, workers: 1) { Isa = isa };
        lean.Select(hidden, batch);
        for (int m = 0; m < batch; m++)
        {
            Assert.Equal(selector.TopIds(m).ToArray(), lean.TopIds(m).ToArray());
            AssertBitwiseEqual(selector.TopLogits(m), lean.TopLogits(m), "top logits");
            Assert.Equal(selector.LogSumExp(m), lean.LogSumExp(m));
        }
    }

    [Fact]
    public void Ties_rank_the_lower_id_first_across_chunks()
    {
        var embedding = new float[Vocabulary * Hidden];
        // Ids 1290, 3, 700 and 515 get the same (largest) logit, from identical rows in different chunks and tile slots.
        foreach (int id in new[] { 1290, 3, 700, 515 }) embedding.AsSpan(id * Hidden, Hidden).Fill(1f);
        embedding.AsSpan(42 * Hidden, Hidden).Fill(0.5f);
        float[] hidden = Enumerable.Repeat(1f, Hidden).ToArray();
        using PackedWeights head = PackedWeights.FromFloat32(embedding, Vocabulary, Hidden, WeightFormat.F32);
        using var selector = new LmHeadSelector(head, maxBatch: 1, topK: 6, workers: 1);
        selector.Select(hidden, 1);
        Assert.Equal([3, 515, 700, 1290, 42, 0], selector.TopIds(0).ToArray());
        Assert.Equal(3, selector.ArgMax(0));
    }

    [Fact]
    public void Results_are_bitwise_the_same_on_one_two_and_three_workers()
    {
        int batch = 5;
        (float[] embedding, float[] hidden) = Inputs(batch, seed: 60);
        using PackedWeights head = PackedWeights.FromFloat32(embedding, Vocabulary, Hidden, WeightFormat.Bf16);
        (int[] Ids, float[] Values, float[] Lse)? first = null;
        foreach (int workers in new[] { 1, 2, 3 })
        {
            using var pool = new WorkerPool(workers);
            using var selector = new LmHeadSelector(head, batch, TopK, workers);
            selector.Run(pool, hidden, batch);
            var ids = new List<int>();
            var values = new List<float>();
            var lse = new List<float>();
            for (int m = 0; m < batch; m++)
            {
                ids.AddRange(selector.TopIds(m).ToArray());
                values.AddRange(selector.TopLogits(m).ToArray());
                lse.Add(selector.LogSumExp(m));
            }
            if (first is null)
            {
                first = (ids.ToArray(), values.ToArray(), lse.ToArray());
                continue;
            }
            Assert.Equal(first.Value.Ids, ids.ToArray());
            AssertBitwiseEqual(first.Value.Values, values.ToArray(), $"{workers} workers: top logits");
            AssertBitwiseEqual(first.Value.Lse, lse.ToArray(), $"{workers} workers: log-sum-exp");
        }
    }

    private static (float[] Embedding, float[] Hidden) Inputs(int batch, int seed)
    {
        float[] embedding = Gaussian(Vocabulary * Hidden, seed: 70 + seed, scale: 0.5f);
        // Exact ties: rows 10 and 1100 copy row 600, so they tie with it wherever it ranks.
        embedding.AsSpan(600 * Hidden, Hidden).CopyTo(embedding.AsSpan(10 * Hidden));
        embedding.AsSpan(600 * Hidden, Hidden).CopyTo(embedding.AsSpan(1100 * Hidden));
        float[] hidden = Gaussian(batch * Hidden, seed: 80 + seed);
        return (embedding, hidden);
    }
}
