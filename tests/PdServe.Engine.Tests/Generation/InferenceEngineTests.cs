using PdServe.Engine.Generation;
using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.Engine.Sampling;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Generation;

public class InferenceEngineTests
{
    private static readonly ModelConfig Config = TinyCheckpoint.LlamaGqa();

    private static async Task<List<GeneratedToken>> Collect(InferenceEngine engine, GenerationRequest request,
        CancellationToken cancellation = default)
    {
        var tokens = new List<GeneratedToken>();
        await foreach (GeneratedToken token in engine.GenerateAsync(request, cancellation)) tokens.Add(token);
        return tokens;
    }

    /// <summary>Greedy continuation computed the slow way: a full forward pass per token.</summary>
    private static List<int> GreedyByRecompute(CausalLm model, IReadOnlyList<int> prompt, int count)
    {
        var sequence = prompt.ToList();
        for (int i = 0; i < count; i++)
        {
            using Tensor logits = TinyModels.FullLogits(model, sequence);
            sequence.Add((int)logits[-1].argmax().item<long>());
        }
        return sequence.Skip(prompt.Count).ToList();
    }

    [Fact]
    public async Task Greedy_generation_matches_full_recompute()
    {
        using CausalLm model = TinyModels.Load(Config);
        using var engine = new InferenceEngine(model, eosTokenIds: []);
        int[] prompt = TinyModels.RandomTokens(7, Config.VocabSize, 1);
        var tokens = await Collect(engine, new GenerationRequest(prompt, new SamplingParams { Temperature = 0, MaxTokens = 10 }));
        Assert.Equal(GreedyByRecompute(model, prompt, 10), tokens.Select(t => t.Token.TokenId));
        Assert.All(tokens.SkipLast(1), t => Assert.Null(t.Finish));
        Assert.Equal(FinishReason.Length, tokens[^1].Finish);
    }

    [Fact]
    public async Task Concurrent_requests_join_and_leave_the_batch_and_match_running_alone()
    {
        using CausalLm model = TinyModels.Load(Config);
        using var engine = new InferenceEngine(model, eosTokenIds: [], new EngineOptions { MaxBatchSize = 3 });
        var requests = Enumerable.Range(0, 6).Select(i => new GenerationRequest(
            TinyModels.RandomTokens(3 + 4 * i, Config.VocabSize, 50 + i),
            new SamplingParams { Temperature = 0, MaxTokens = 2 + 3 * (i % 3) })).ToArray();

        var results = await Task.WhenAll(requests.Select(r => Collect(engine, r)));
        for (int i = 0; i < requests.Length; i++)
        {
            var expected = GreedyByRecompute(model, requests[i].PromptTokenIds, requests[i].Sampling.MaxTokens);
            Assert.Equal(expected, results[i].Select(t => t.Token.TokenId));
        }
    }

    [Fact]
    public async Task Seeded_sampling_is_reproducible_and_n_samples_share_one_prefill()
    {
        using CausalLm model = TinyModels.Load(Config);
        using var engine = new InferenceEngine(model, eosTokenIds: []);
        int[] prompt = TinyModels.RandomTokens(5, Config.VocabSize, 3);
        var sampling = new SamplingParams { Temperature = 1.5f, Seed = 1234, MaxTokens = 12, TopLogprobs = 2 };

        var first = await Collect(engine, new GenerationRequest(prompt, sampling, SampleCount: 3));
        var second = await Collect(engine, new GenerationRequest(prompt, sampling, SampleCount: 3));
        int[][] BySample(List<GeneratedToken> tokens) => Enumerable.Range(0, 3)
            .Select(i => tokens.Where(t => t.SampleIndex == i).Select(t => t.Token.TokenId).ToArray()).ToArray();

        Assert.Equal(BySample(first), BySample(second));
        Assert.All(BySample(first), sample => Assert.Equal(12, sample.Length));
        Assert.True(BySample(first).Distinct(new SequenceComparer()).Count() > 1, "different samples should differ");
        Assert.All(first, t => Assert.Equal(2, t.Token.TopLogprobs.Count));

        // Sample 1 of a seeded n=3 request equals sample 0 of a request seeded one higher.
        var shifted = await Collect(engine, new GenerationRequest(prompt, sampling with { Seed = 1235 }));
        Assert.Equal(BySample(first)[1], shifted.Select(t => t.Token.TokenId));
    }

    [Fact]
    public async Task Stop_tokens_and_eos_end_a_sequence_with_reason_stop()
    {
        using CausalLm model = TinyModels.Load(Config);
        int[] prompt = TinyModels.RandomTokens(6, Config.VocabSize, 4);
        var greedy = GreedyByRecompute(model, prompt, 6);
        using (var engine = new InferenceEngine(model, eosTokenIds: [greedy[3]]))
        {
            var tokens = await Collect(engine, new GenerationRequest(prompt, new SamplingParams { Temperature = 0, MaxTokens = 6 }));
            Assert.Equal(greedy.Take(greedy.IndexOf(greedy[3]) + 1), tokens.Select(t => t.Token.TokenId));
            Assert.Equal(FinishReason.Stop, tokens[^1].Finish);

            var ignoring = await Collect(engine, new GenerationRequest(prompt,
                new SamplingParams { Temperature = 0, MaxTokens = 6, IgnoreEos = true }));
            Assert.Equal(greedy, ignoring.Select(t => t.Token.TokenId));
        }
        using (var engine = new InferenceEngine(model, eosTokenIds: []))
        {
            var tokens = await Collect(engine, new GenerationRequest(prompt,
                new SamplingParams { Temperature = 0, MaxTokens = 6, StopTokenIds = [greedy[2]] }));
            Assert.Equal(FinishReason.Stop, tokens[^1].Finish);
            Assert.Equal(greedy[2], tokens[^1].Token.TokenId);
        }
    }

    [Fact]
    public async Task Cancelling_frees_the_sequence_and_the_engine_keeps_serving()
    {
        using CausalLm model = TinyModels.Load(Config);
        using var engine = new InferenceEngine(model, eosTokenIds: []);
        int[] prompt = TinyModels.RandomTokens(4, Config.VocabSize, 5);
        using var cancellation = new CancellationTokenSource();
        int received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in engine.GenerateAsync(new GenerationRequest(prompt,
                               new SamplingParams { Temperature = 0, MaxTokens = 200 }), cancellation.Token))
            {
                if (++received == 3) cancellation.Cancel();
            }
        });
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (engine.RunningCount != 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(0, engine.RunningCount);
        var after = await Collect(engine, new GenerationRequest(prompt, new SamplingParams { Temperature = 0, MaxTokens = 3 }));
        Assert.Equal(GreedyByRecompute(model, prompt, 3), after.Select(t => t.Token.TokenId));
    }

    [Fact]
    public async Task Sequences_longer_than_the_initial_cache_capacity_grow_it_and_stay_exact()
    {
        using CausalLm model = TinyModels.Load(Config);
        using var engine = new InferenceEngine(model, eosTokenIds: [], new EngineOptions { MaxBatchSize = 2 });
        int[] longPrompt = TinyModels.RandomTokens(150, Config.VocabSize, 8);
        int[] shortPrompt = TinyModels.RandomTokens(5, Config.VocabSize, 9);
        var greedy = new SamplingParams { Temperature = 0, MaxTokens = 8 };
        var results = await Task.WhenAll(
            Collect(engine, new GenerationRequest(shortPrompt, greedy with { MaxTokens = 40 })),
            Collect(engine, new GenerationRequest(longPrompt, greedy)));
        Assert.Equal(GreedyByRecompute(model, shortPrompt, 40), results[0].Select(t => t.Token.TokenId));
        Assert.Equal(GreedyByRecompute(model, longPrompt, 8), results[1].Select(t => t.Token.TokenId));
    }

    [Fact]
    public void Invalid_requests_are_refused_at_submission()
    {
        using CausalLm model = TinyModels.Load(Config);
        using var engine = new InferenceEngine(model, eosTokenIds: [], new EngineOptions { MaxContextTokens = 32 });
        var ok = new SamplingParams();
        Assert.Throws<ArgumentException>(() => engine.Submit(new GenerationRequest([], ok)));
        Assert.Throws<ArgumentException>(() => engine.Submit(new GenerationRequest([Config.VocabSize], ok)));
        Assert.Throws<ArgumentException>(() => engine.Submit(new GenerationRequest(new int[40], ok)));
        Assert.Throws<ArgumentException>(() => engine.Submit(new GenerationRequest([5], ok, SampleCount: 0)));
        Assert.Throws<ArgumentException>(() => engine.Submit(new GenerationRequest([5], ok with { TopP = 2 })));
    }

    [Fact]
    public async Task Generation_stops_at_the_context_limit()
    {
        using CausalLm model = TinyModels.Load(Config);
        using var engine = new InferenceEngine(model, eosTokenIds: [], new EngineOptions { MaxContextTokens = 12 });
        var tokens = await Collect(engine, new GenerationRequest(TinyModels.RandomTokens(8, Config.VocabSize, 6),
            new SamplingParams { Temperature = 0, MaxTokens = 100 }));
        Assert.Equal(4, tokens.Count);
        Assert.Equal(FinishReason.Length, tokens[^1].Finish);
    }

    private sealed class SequenceComparer : IEqualityComparer<int[]>
    {
        public bool Equals(int[]? x, int[]? y) => x!.SequenceEqual(y!);
        public int GetHashCode(int[] obj) => obj.Length;
    }
}
