using PdServe.Engine.Sampling;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Sampling;

public class SamplerTests
{
    private static readonly float[] Row = [0.1f, 2.0f, -1.0f, 1.5f, 0.3f, 1.9f];

    private static SampledToken SampleOnce(SamplingParams parameters, ulong seed = 1)
    {
        using Tensor logits = tensor(Row, [1, Row.Length]);
        using var sampler = new SequenceSampler(parameters, seed);
        return Sampler.Sample(logits, [sampler])[0];
    }

    [Fact]
    public void Greedy_picks_the_argmax_and_reports_its_logprob()
    {
        SampledToken token = SampleOnce(new SamplingParams { Temperature = 0, TopLogprobs = 3 });
        Assert.Equal(1, token.TokenId);
        double logSum = Math.Log(Row.Sum(v => Math.Exp(v)));
        Assert.Equal(2.0 - logSum, token.Logprob, 4);
        Assert.Equal([1, 5, 3], token.TopLogprobs.Select(t => t.TokenId));
        Assert.True(token.TopLogprobs[0].Logprob >= token.TopLogprobs[1].Logprob);
        Assert.Equal(1.9 - logSum, token.TopLogprobs[1].Logprob, 4);
    }

    [Fact]
    public void Same_seed_draws_the_same_tokens_and_different_seeds_differ()
    {
        var parameters = new SamplingParams { Temperature = 5f };
        int[] Draw(ulong seed)
        {
            using var sampler = new SequenceSampler(parameters, seed);
            using Tensor logits = tensor(Row, [1, Row.Length]);
            return Enumerable.Range(0, 40).Select(_ => Sampler.Sample(logits, [sampler])[0].TokenId).ToArray();
        }
        Assert.Equal(Draw(42), Draw(42));
        Assert.NotEqual(Draw(42), Draw(43));
    }

    [Fact]
    public void Top_k_and_top_p_restrict_the_candidates()
    {
        for (ulong seed = 0; seed < 30; seed++)
        {
            int topK = SampleOnce(new SamplingParams { Temperature = 10f, TopK = 2 }, seed).TokenId;
            Assert.Contains(topK, new[] { 1, 5 });
            // p(1) ≈ p(5) ≈ 0.29 at T=1: a mass of 0.5 needs exactly those two tokens.
            int topP = SampleOnce(new SamplingParams { Temperature = 1f, TopP = 0.5f }, seed).TokenId;
            Assert.Contains(topP, new[] { 1, 5 });
        }
        Assert.Equal(1, SampleOnce(new SamplingParams { Temperature = 1f, TopP = 0.01f }).TokenId);
    }

    [Fact]
    public void High_temperature_sampling_visits_every_token()
    {
        using var sampler = new SequenceSampler(new SamplingParams { Temperature = 50f }, 9);
        using Tensor logits = tensor(Row, [1, Row.Length]);
        var seen = Enumerable.Range(0, 300).Select(_ => Sampler.Sample(logits, [sampler])[0].TokenId).ToHashSet();
        Assert.Equal(Row.Length, seen.Count);
    }

    [Theory]
    [InlineData(-1f, 1f, 0, 16, "temperature")]
    [InlineData(1f, 0f, 0, 16, "top_p")]
    [InlineData(1f, 1.5f, 0, 16, "top_p")]
    [InlineData(1f, 1f, -2, 16, "top_k")]
    [InlineData(1f, 1f, 0, 0, "max_tokens")]
    public void Invalid_parameters_name_the_field(float temperature, float topP, int topK, int maxTokens, string field)
    {
        var parameters = new SamplingParams { Temperature = temperature, TopP = topP, TopK = topK, MaxTokens = maxTokens };
        var error = Assert.Throws<ArgumentException>(() => parameters.Validate(100));
        Assert.StartsWith(field, error.Message);
    }
}
