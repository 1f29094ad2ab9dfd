using PdServe.Engine.Generation;
using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.Engine.Planning;
using PdServe.Engine.Sampling;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Generation;

/// <summary>
/// A request whose prompt KV was computed elsewhere (as a decode node receives it) decodes exactly like a request
/// the engine prefills itself, with or without the token-aware policy, and n samples continue their seeded streams.
/// </summary>
public class PrefilledRequestTests
{
    private static readonly ModelConfig Config = TinyCheckpoint.LlamaGqa();

    private static async Task<List<GeneratedToken>> Collect(ChannelReaderSource source)
    {
        var tokens = new List<GeneratedToken>();
        await foreach (GeneratedToken token in source().ReadAllAsync()) tokens.Add(token);
        return tokens;
    }

    private delegate System.Threading.Channels.ChannelReader<GeneratedToken> ChannelReaderSource();

    /// <summary>What a prefill node does: prefill without a cache, keep the policy's positions, draw the first tokens.</summary>
    private static PrefilledPrompt PrefillElsewhere(CausalLm model, GenerationRequest request, KvPolicy policy)
    {
        var blocks = new Dictionary<int, (Tensor, Tensor)>();
        int length = request.PromptTokenIds.Count;
        using Tensor logits = model.Prefill(request.PromptTokenIds, cache: null, slot: 0, onBlockKv: (block, keys, values) =>
        {
            using Tensor kept = tensor(policy.KeptPositions(block, length).Select(p => (long)p).ToArray());
            blocks[block] = (keys.index_select(1, kept).DetachFromDisposeScope(), values.index_select(1, kept).DetachFromDisposeScope());
        });
        SequenceSampler[] samplers = Enumerable.Range(0, request.SampleCount)
            .Select(i => new SequenceSampler(request.Sampling, (request.Sampling.Seed ?? 0) + (ulong)i)).ToArray();
        SampledToken[] first = Sampler.Sample(logits.unsqueeze(0).expand(request.SampleCount, -1), samplers);
        foreach (SequenceSampler sampler in samplers) sampler.Dispose();
        return new PrefilledPrompt(blocks, first);
    }

    [Theory]
    [InlineData(1.0f, 1)]
    [InlineData(1.2f, 3)]
    public async Task A_prefilled_request_continues_exactly_like_a_local_one(float temperature, int samples)
    {
        using CausalLm model = TinyModels.Load(Config);
        using var engine = new InferenceEngine(model, eosTokenIds: []);
        var request = new GenerationRequest(TinyModels.RandomTokens(9, Config.VocabSize, 3),
            new SamplingParams { Temperature = temperature, Seed = 41, MaxTokens = 8, TopLogprobs = 2 }, samples);

        var local = await Collect(() => engine.Submit(request));
        var prefilled = await Collect(() => engine.SubmitPrefilled(request, PrefillElsewhere(model, request, KvPolicy.KeepAll)));

        Assert.Equal(samples * 8, prefilled.Count);
        foreach (int sample in Enumerable.Range(0, samples))
        {
            Assert.Equal(local.Where(t => t.SampleIndex == sample).Select(t => t.Token.TokenId),
                prefilled.Where(t => t.SampleIndex == sample).Select(t => t.Token.TokenId));
        }
        if (samples > 1)
            Assert.True(Enumerable.Range(0, samples).Select(s => string.Join(',', prefilled.Where(t => t.SampleIndex == s).Select(t => t.Token.TokenId))).Distinct().Count() > 1);
        Assert.Equal(0, engine.RunningCount);
    }

    [Fact]
    public async Task Pruned_prefilled_kv_decodes_like_a_local_prefill_under_the_same_policy()
    {
        using CausalLm model = TinyModels.Load(Config);
        var policy = new KvPolicy([1, 3], First: 2, Last: 3, KvWireDtype.Float32);
        using var pruned = new InferenceEngine(model, eosTokenIds: [], new EngineOptions { PromptKvPolicy = policy });
        using var unpruned = new InferenceEngine(model, eosTokenIds: []);
        var request = new GenerationRequest(TinyModels.RandomTokens(20, Config.VocabSize, 4),
            new SamplingParams { Temperature = 0, MaxTokens = 12 });

        var local = await Collect(() => pruned.Submit(request));
        var prefilled = await Collect(() => pruned.SubmitPrefilled(request, PrefillElsewhere(model, request, policy)));
        var full = await Collect(() => unpruned.Submit(request));

        Assert.Equal(local.Select(t => t.Token.TokenId), prefilled.Select(t => t.Token.TokenId));
        Assert.Equal(local.Select(t => t.Token.Logprob), prefilled.Select(t => t.Token.Logprob));
        // Dropping positions changes the model's view (the first token comes from the full prompt and agrees).
        Assert.Equal(full[0].Token.TokenId, local[0].Token.TokenId);
        Assert.NotEqual(full.Select(t => t.Token.Logprob), local.Select(t => t.Token.Logprob));
    }

    [Fact]
    public void Prefilled_kv_for_other_blocks_or_shapes_is_refused_and_freed()
    {
        using CausalLm model = TinyModels.Load(Config, skip: new HashSet<int> { 2 });
        using var engine = new InferenceEngine(model, eosTokenIds: []);
        var request = new GenerationRequest([5, 6, 7], new SamplingParams { Temperature = 0, MaxTokens = 2 });
        Tensor Kv(int positions) => zeros(Config.NumKvHeads, positions, Config.HeadDim);

        var allBlocks = new PrefilledPrompt(Enumerable.Range(0, 4).ToDictionary(b => b, _ => (Kv(3), Kv(3))), [new SampledToken(4, 0f, [])]);
        Assert.Contains("this model runs [0,1,3]", Assert.Throws<ArgumentException>(() => engine.SubmitPrefilled(request, allBlocks)).Message);
        Tensor kept = allBlocks[0].Keys;
        Assert.True(kept.IsInvalid, "refused KV is freed at once");

        var tooLong = new PrefilledPrompt(new[] { 0, 1, 3 }.ToDictionary(b => b, _ => (Kv(4), Kv(4))), [new SampledToken(4, 0f, [])]);
        Assert.Throws<ArgumentException>(() => engine.SubmitPrefilled(request, tooLong));

        var unseeded = new PrefilledPrompt(new[] { 0, 1, 3 }.ToDictionary(b => b, _ => (Kv(3), Kv(3))), [new SampledToken(4, 0f, [])]);
        Assert.Contains("seed", Assert.Throws<ArgumentException>(() =>
            engine.SubmitPrefilled(request with { Sampling = new SamplingParams { Temperature = 1 } }, unseeded)).Message);
    }
}
