using Grpc.Core;
using PdServe.Contracts;
using PdServe.Engine.Generation;
using PdServe.Engine.Sampling;
using PdServe.NodeHosting.Mapping;
using TokenLogprob = PdServe.Engine.Sampling.TokenLogprob;

namespace PdServe.Nodes.Tests;

/// <summary>The nodes' one mapping between the wire and the engine, and their one prompt validation.</summary>
public sealed class WireMappingTests
{
    private static readonly RequestLimits Limits = new(VocabSize: 100, ContextTokens: 10, MaxSamples: 4);

    [Fact]
    public void Sampling_parameters_survive_the_hop_from_decode_to_prefill_unchanged()
    {
        var client = new SamplingOptions { Temperature = 0.7f, TopP = 0, TopK = 5, MaxTokens = 9, IgnoreEos = true, TopLogprobs = 3, StopTokenIds = { 4, 8 } };
        ulong? seed = SamplingMapping.SharedSeed(client);
        Assert.NotNull(seed);
        SamplingParams decode = SamplingMapping.ToEngine(client, Limits.VocabSize, seed);
        SamplingParams prefill = SamplingMapping.ToEngine(SamplingMapping.ToWire(decode), Limits.VocabSize);
        Assert.Equal(decode with { StopTokenIds = [] }, prefill with { StopTokenIds = [] });
        Assert.Equal(decode.StopTokenIds, prefill.StopTokenIds);
        Assert.Equal(1f, prefill.TopP);
        Assert.Equal(seed, prefill.Seed);

        // A greedy request keeps no seed; one without sampling options is greedy with 16 tokens on both nodes.
        Assert.Null(SamplingMapping.SharedSeed(new SamplingOptions { Temperature = 0, MaxTokens = 3 }));
        SamplingParams defaults = SamplingMapping.ToEngine(null, Limits.VocabSize, SamplingMapping.SharedSeed(null));
        Assert.Equal(defaults with { StopTokenIds = [] }, SamplingMapping.ToEngine(SamplingMapping.ToWire(defaults), Limits.VocabSize) with { StopTokenIds = [] });
        Assert.Equal(16, defaults.MaxTokens);
        Assert.True(defaults.IsGreedy);
    }

    [Theory]
    [InlineData(new int[0], 1, "the prompt has no tokens")]
    [InlineData(new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, 1, "the prompt has 10 tokens; this node's context is 10")]
    [InlineData(new[] { 1, 100 }, 1, "prompt token id 100 is outside the vocabulary [0, 100)")]
    [InlineData(new[] { 1, -1 }, 1, "prompt token id -1 is outside the vocabulary [0, 100)")]
    [InlineData(new[] { 1 }, 5, "n must be between 1 and 4, got 5")]
    [InlineData(new[] { 1 }, -2, "n must be between 1 and 4, got -2")]
    public void A_bad_prompt_or_sample_count_is_the_requests_fault_naming_the_problem(int[] prompt, int n, string message)
    {
        var error = Assert.Throws<RpcException>(() => PromptValidation.Validate(prompt, n, Limits));
        Faults.AssertFault(error, StatusCode.InvalidArgument, FaultSide.Request);
        Assert.Equal(message, error.Status.Detail);
    }

    [Fact]
    public void Zero_samples_on_the_wire_mean_one()
    {
        Assert.Equal(1, PromptValidation.Validate([1, 2], 0, Limits));
        Assert.Equal(4, PromptValidation.Validate([1, 2], 4, Limits));
    }

    [Fact]
    public void Tokens_map_to_events_and_first_tokens_and_back()
    {
        var sampled = new SampledToken(7, -0.5f, [new TokenLogprob(7, -0.5f), new TokenLogprob(3, -1.5f)]);
        TokenEvent streamed = TokenMapping.ToEvent(new GeneratedToken(2, sampled, FinishReason.Stop));
        Assert.Equal((2, 7, -0.5f), (streamed.SampleIndex, streamed.TokenId, streamed.Logprob));
        Assert.Equal([(7, -0.5f), (3, -1.5f)], streamed.TopLogprobs.Select(t => (t.TokenId, t.Logprob)));

        FirstToken first = TokenMapping.ToFirstToken(1, sampled);
        Assert.Equal(1, first.SampleIndex);
        SampledToken back = TokenMapping.ToEngine(first);
        Assert.Equal((sampled.TokenId, sampled.Logprob), (back.TokenId, back.Logprob));
        Assert.Equal(sampled.TopLogprobs, back.TopLogprobs);

        Assert.Equal("stop", TokenMapping.ToFinished(0, FinishReason.Stop, 3).FinishReason);
        Assert.Equal("length", TokenMapping.ToFinished(0, FinishReason.Length, 3).FinishReason);
    }
}
