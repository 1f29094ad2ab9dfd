using PdServe.Engine.Generation;
using PdServe.Engine.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Sampling;

/// <summary>
/// Property checks over every sampling value the API accepts, on logit rows with huge magnitudes, -inf entries, ties
/// and denormal gaps: sampling never throws and picks a token the parameters allow, reproducibly, with the logprob
/// the model gave it; rows the model got wrong fail as the request's fault.
/// </summary>
public class SamplingRangeTests
{
    private static readonly float[] Temperatures = [0f, 1e-45f, 1e-40f, 1e-7f, 9.99e-6f, 1e-5f, 1e-3f, 0.7f, 1f, 2f];
    private static readonly float[] TopPs = [1e-30f, 1e-7f, 0.5f, 0.9f, 1f];
    private static readonly ulong[] Seeds = [0, ulong.MaxValue, 12345];

    private static int[] TopKs(int vocab) => [0, 1, 2, vocab - 1, vocab, vocab + 5, int.MaxValue];

    /// <summary>Named logit rows; each has at least one finite entry and no NaN or +inf.</summary>
    public static TheoryData<string> RowKinds => new(Rows.Keys);

    private static readonly Dictionary<string, float[]> Rows = BuildRows();

    private static Dictionary<string, float[]> BuildRows()
    {
        var random = new Random(5);
        float Normal(double scale) => (float)(scale * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        float[] Row(int vocab, Func<int, float> entry) => Enumerable.Range(0, vocab).Select(entry).ToArray();
        float[] huge = [1e30f, -1e30f, 0f, 1f, -1f, 5e29f, 1e30f - 1e24f];
        float[] withInf = Row(30, _ => random.NextDouble() < 0.5 ? float.NegativeInfinity : Normal(2));
        withInf[7] = 0.5f;
        float[] singleFinite = Row(10, _ => float.NegativeInfinity);
        singleFinite[6] = -3f;
        return new Dictionary<string, float[]>
        {
            ["ordinary"] = Row(50, _ => Normal(3)),
            ["huge magnitudes"] = Row(40, i => i == 11 ? 1e30f : huge[random.Next(huge.Length)]),
            ["-inf entries"] = withInf,
            ["ties"] = Row(20, _ => random.Next(4)),
            ["tied maximum only"] = Row(12, _ => 7f),
            ["vocabulary smaller than 20"] = Row(3, _ => Normal(1)),
            ["denormal gaps"] = Row(25, _ => random.Next(5) * 1e-40f),
            ["one finite entry"] = singleFinite,
            ["float extremes"] = Row(16, i => i % 3 == 0 ? float.MaxValue : i % 3 == 1 ? -float.MaxValue : 0f),
        };
    }

    private static SampledToken SampleRow(float[] row, SamplingParams parameters, ulong seed)
    {
        using Tensor logits = tensor(row, [1, row.Length]);
        using var sampler = new SequenceSampler(parameters, seed);
        return Sampler.Sample(logits, [sampler])[0];
    }

    /// <summary>log softmax of the raw row in double precision.</summary>
    private static double ExactLogprob(float[] row, int token)
    {
        double max = row.Max();
        double logSum = Math.Log(row.Sum(x => Math.Exp(x - max)));
        return row[token] - max - logSum;
    }

    [Theory]
    [MemberData(nameof(RowKinds))]
    public void Every_accepted_parameter_combination_samples_an_allowed_token(string kind)
    {
        float[] row = Rows[kind];
        int vocab = row.Length;
        float max = row.Max();
        double[] descending = row.Select(x => (double)x).OrderDescending().ToArray();
        int cases = 0;
        foreach (float temperature in Temperatures)
        foreach (float topP in TopPs)
        foreach (int topK in TopKs(vocab))
        foreach (ulong seed in Seeds)
        {
            var parameters = new SamplingParams
            {
                Temperature = temperature, TopP = topP, TopK = topK, Seed = seed, TopLogprobs = cases++ % 3 * 10,
            };
            parameters.Validate(vocab);
            string what = $"{kind}: T={temperature} top_p={topP} top_k={topK} seed={seed}";

            SampledToken token = SampleRow(row, parameters, seed);

            int id = token.TokenId;
            Assert.InRange(id, 0, vocab - 1);
            if (temperature < SamplingParams.GreedyTemperature)
                Assert.True(id == Array.IndexOf(row, max), $"{what}: greedy must pick the argmax, got {id}");
            if (topK == 1) Assert.True(row[id] == max, $"{what}: top_k=1 must pick a maximum, got {id}");
            bool restricted = topK > 0 && topK < vocab;
            double threshold = restricted ? descending[topK - 1] : double.NegativeInfinity;
            Assert.True(row[id] >= threshold, $"{what}: token {id} is outside the top-k set");
            if (temperature >= SamplingParams.GreedyTemperature)
            {
                // The weights of the tempered, top-k-restricted distribution, relative to its best token.
                double[] weights = row.Select(x => x >= threshold ? Math.Exp(((double)x - max) / temperature) : 0).ToArray();
                Assert.True(((double)row[id] - max) / temperature > -110, $"{what}: token {id} had probability 0");
                double massAbove = weights.Where((_, i) => row[i] > row[id]).Sum() / weights.Sum();
                Assert.True(massAbove < topP + 1e-4, $"{what}: token {id} is outside the nucleus (mass above it {massAbove})");
            }
            double exact = ExactLogprob(row, id);
            Assert.True(float.IsFinite(token.Logprob), $"{what}: logprob {token.Logprob}");
            Assert.True(Math.Abs(token.Logprob - exact) <= 1e-4 * Math.Max(1, Math.Abs(exact)), $"{what}: logprob {token.Logprob}, exactly {exact}");

            Assert.Equal(Math.Min(parameters.TopLogprobs, vocab), token.TopLogprobs.Count);
            for (int i = 0; i < token.TopLogprobs.Count; i++)
            {
                TokenLogprob top = token.TopLogprobs[i];
                double exactTop = ExactLogprob(row, top.TokenId);
                // -inf where the true value is; finite where it is comfortably inside the float range.
                if (double.IsNegativeInfinity(exactTop)) Assert.True(float.IsNegativeInfinity(top.Logprob), $"{what}: top logprob {top.Logprob}, exactly -inf");
                if (exactTop > -1e38) Assert.True(float.IsFinite(top.Logprob), $"{what}: top logprob {top.Logprob}, exactly {exactTop}");
                if (i > 0) Assert.True(top.Logprob <= token.TopLogprobs[i - 1].Logprob, $"{what}: top logprobs out of order");
            }

            Assert.Equal(id, SampleRow(row, parameters, seed).TokenId);
        }
    }

    [Theory]
    [MemberData(nameof(RowKinds))]
    public void One_draw_advances_the_generator_exactly_like_SkipDraw(string kind)
    {
        // The contract a decode node relies on to continue a stream whose first token a prefill node drew.
        float[] row = Rows[kind];
        float[] next = Rows["ordinary"];
        foreach (float temperature in Temperatures.Where(t => t >= SamplingParams.GreedyTemperature))
        foreach (float topP in TopPs)
        foreach (int topK in TopKs(row.Length))
        {
            var parameters = new SamplingParams { Temperature = temperature, TopP = topP, TopK = topK };
            using var drawn = new SequenceSampler(parameters, 77);
            using var skipped = new SequenceSampler(parameters, 77);
            using Tensor logits = tensor(row, [1, row.Length]);
            using Tensor nextLogits = tensor(next);
            Sampler.Sample(logits, [drawn]);
            skipped.SkipDraw(row.Length);
            for (int i = 0; i < 3; i++)
            {
                long a = drawn.Draw(nextLogits, next.Max());
                long b = skipped.Draw(nextLogits, next.Max());
                Assert.True(a == b, $"{kind}: T={temperature} top_p={topP} top_k={topK}: draw {i} after the first differs ({a} vs {b})");
            }
        }
    }

    [Fact]
    public void Temperatures_below_the_greedy_threshold_are_greedy_and_draw_nothing()
    {
        Assert.True(new SamplingParams { Temperature = 0 }.IsGreedy);
        Assert.True(new SamplingParams { Temperature = 1e-40f }.IsGreedy);
        Assert.True(new SamplingParams { Temperature = 9.99e-6f }.IsGreedy);
        Assert.False(new SamplingParams { Temperature = 1e-5f }.IsGreedy);
        using var tiny = new SequenceSampler(new SamplingParams { Temperature = 1e-7f }, 3);
        Assert.Null(tiny.Generator);
    }

    [Theory]
    [InlineData(0.7f)]
    [InlineData(1f)]
    [InlineData(1.5f)]
    public void Seeded_draws_at_ordinary_temperatures_keep_the_tokens_of_plain_division(float temperature)
    {
        // What a seeded request drew before the row max was subtracted: softmax(logits / T), one multinomial draw.
        float[] row = Rows["ordinary"];
        using var sampler = new SequenceSampler(new SamplingParams { Temperature = temperature }, 42);
        using Tensor logits = tensor(row, [1, row.Length]);
        int[] drawn = Enumerable.Range(0, 200).Select(_ => Sampler.Sample(logits, [sampler])[0].TokenId).ToArray();
        using var plain = new SequenceSampler(new SamplingParams { Temperature = temperature }, 42);
        using Scalar held = temperature.ToScalar();
        using Tensor probabilities = logits[0].div(held).softmax(0);
        int[] reference = Enumerable.Range(0, 200)
            .Select(_ => (int)probabilities.multinomial(1, generator: plain.Generator).item<long>()).ToArray();
        Assert.Equal(reference, drawn);
    }

    public static TheoryData<string, float[]> NonFiniteRows => new()
    {
        { "NaN entry", [1f, float.NaN, 2f, 0f] },
        { "all NaN", [float.NaN, float.NaN, float.NaN, float.NaN] },
        { "+inf entry", [1f, float.PositiveInfinity, 2f, 0f] },
        { "all -inf", [float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity] },
        { "NaN and -inf", [float.NegativeInfinity, float.NaN, float.NegativeInfinity, 3f] },
    };

    [Theory]
    [MemberData(nameof(NonFiniteRows))]
    public void Non_finite_rows_are_the_request_fault_and_spare_the_other_rows(string kind, float[] poisoned)
    {
        float[] good = [0.5f, -1f, 2.5f, 0.1f];
        foreach (var parameters in new[]
                 {
                     new SamplingParams { Temperature = 0, TopLogprobs = 2 },
                     new SamplingParams { Temperature = 1f, TopK = 2, TopP = 0.7f, TopLogprobs = 20 },
                     new SamplingParams { Temperature = 1e-40f },
                 })
        {
            using Tensor batch = tensor(good.Concat(poisoned).Concat(good).ToArray(), [3, 4]);
            SequenceSampler[] samplers = Enumerable.Range(0, 3).Select(_ => new SequenceSampler(parameters, 9)).ToArray();
            SamplingOutcome[] outcomes = Sampler.SampleEach(batch, samplers);
            foreach (SequenceSampler sampler in samplers) sampler.Dispose();

            Assert.True(outcomes[1].Error is RequestFaultException { Message: Sampler.NonFiniteLogitsMessage }, $"{kind}: {outcomes[1].Error}");
            Assert.Null(outcomes[1].Token);
            SampledToken alone = SampleRow(good, parameters, 9);
            foreach (int b in new[] { 0, 2 })
            {
                Assert.Null(outcomes[b].Error);
                Assert.Equal(alone.TokenId, outcomes[b].Token!.TokenId);
                Assert.Equal(alone.Logprob, outcomes[b].Token!.Logprob);
                Assert.Equal(alone.TopLogprobs, outcomes[b].Token!.TopLogprobs);
            }

            using Tensor single = tensor(poisoned, [1, 4]);
            using var only = new SequenceSampler(parameters, 9);
            Assert.Throws<RequestFaultException>(() => Sampler.Sample(single, [only]));
        }
    }

    [Theory]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NaN)]
    [InlineData(-1e-45f)]
    public void Non_finite_or_negative_temperatures_are_refused(float temperature)
    {
        var error = Assert.Throws<ArgumentException>(() => new SamplingParams { Temperature = temperature }.Validate(10));
        Assert.StartsWith("temperature", error.Message);
    }
}
