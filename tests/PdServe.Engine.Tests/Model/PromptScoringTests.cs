using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.Engine.Sampling;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Model;

public class PromptScoringTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(256)]
    public void Prefill_scores_every_prompt_token_as_a_full_forward_pass_does_in_any_chunking(int rowsPerChunk)
    {
        ModelConfig config = TinyCheckpoint.LlamaGqa();
        using CausalLm model = TinyModels.Load(config);
        int[] prompt = TinyModels.RandomTokens(23, config.VocabSize, seed: 7);
        var scoring = new PromptScoring(topLogprobs: 4, rowsPerChunk);

        using Tensor last = model.Prefill(prompt, cache: null, slot: 0, computeDtype: ScalarType.Float32, scoring: scoring);
        using Tensor full = TinyModels.FullLogits(model, prompt);
        using Tensor logprobs = full.log_softmax(1);

        Assert.Equal(prompt.Length - 1, scoring.Scores.Count);
        for (int p = 0; p < prompt.Length - 1; p++)
        {
            float[] row = logprobs[p].data<float>().ToArray();
            PromptTokenScore score = scoring.Scores[p];
            Assert.Equal(prompt[p + 1], score.TokenId);
            Assert.True(Math.Abs(score.Logprob - row[prompt[p + 1]]) < 1e-4f, $"position {p + 1}: {score.Logprob} vs {row[prompt[p + 1]]}");
            Assert.Equal(1 + row.Count(v => v > row[prompt[p + 1]]), score.Rank);
            int[] best = Enumerable.Range(0, row.Length).OrderByDescending(i => row[i]).Take(4).ToArray();
            Assert.Equal(best, score.TopLogprobs.Select(t => t.TokenId));
            Assert.True(score.TopLogprobs.Zip(score.TopLogprobs.Skip(1)).All(pair => pair.First.Logprob >= pair.Second.Logprob));
        }
        // Scoring leaves the prefill's own output alone.
        Assert.True(TinyModels.MaxAbsDifference(last, full[prompt.Length - 1]) < 1e-4f);
    }

    [Fact]
    public void A_one_token_prompt_has_nothing_to_score_and_no_alternatives_means_an_empty_list()
    {
        ModelConfig config = TinyCheckpoint.LlamaGqa();
        using CausalLm model = TinyModels.Load(config);
        var single = new PromptScoring(topLogprobs: 2);
        model.Prefill([3], cache: null, slot: 0, scoring: single).Dispose();
        Assert.Empty(single.Scores);

        var bare = new PromptScoring(topLogprobs: 0);
        model.Prefill([3, 4, 5], cache: null, slot: 0, scoring: bare).Dispose();
        Assert.Equal(2, bare.Scores.Count);
        Assert.All(bare.Scores, s => Assert.Empty(s.TopLogprobs));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PromptScoring(-1));
    }
}
