using System.Net.Http.Json;
using System.Text.Json;
using PdServe.Contracts;
using PdServe.Engine;
using PdServe.Engine.Model;
using PdServe.Engine.Tokenization;
using static TorchSharp.torch;

namespace PdServe.Nodes.Tests;

/// <summary>
/// Prompt logprobs through the real nodes: the prefill node scores the prompt and the scores ride the KV trailer to
/// the decode node, which streams them before its tokens; unified mode scores on the decode node. Both equal a
/// full-sequence recompute, and echo through the gateway returns them.
/// </summary>
public sealed class PromptLogprobsTests : IDisposable
{
    private const string Prompt = "in the beginning there was an answer, and then another one came along";
    private readonly TestModel model = new();

    public void Dispose() => model.Dispose();

    /// <summary>Per prompt position p ≥ 1: log p(token p | tokens before) and the full log-distribution, from one forward pass.</summary>
    private float[][] Recompute(int[] ids)
    {
        using var loaded = LoadedModel.Load(model.Path, new ModelLoadOptions());
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor logits = loaded.Model.Forward(tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0), loaded.Model.PrefillDtype);
        Tensor logprobs = logits[0].log_softmax(1);
        return Enumerable.Range(0, ids.Length - 1).Select(p => logprobs[p].data<float>().ToArray()).ToArray();
    }

    private static PromptLogprobs ScoresOf(GenerateResult result)
    {
        var events = result.Events.ToList();
        int scoresAt = events.FindIndex(e => e.PromptLogprobs is not null);
        Assert.True(scoresAt >= 0, "no prompt logprobs event");
        Assert.True(scoresAt < events.FindIndex(e => e.Token is not null), "the prompt logprobs must come before the first token");
        Assert.Single(events, e => e.PromptLogprobs is not null);
        return events[scoresAt].PromptLogprobs;
    }

    [Fact]
    public async Task Pd_and_unified_scores_equal_a_full_sequence_recompute_with_ranks_and_alternatives()
    {
        await using NodePair nodes = await NodePair.StartAsync(model.Path);
        int[] ids = TextTokenizer.Load(model.Path).Encode(Prompt).ToArray();
        var request = DecodeTestClient.Greedy(ids, maxTokens: 3, n: 2);
        request.Sampling.PromptLogprobs = 3;
        PromptLogprobs unified = ScoresOf(await nodes.Client.GenerateAsync(request));
        request.PrefillAddress = nodes.PrefillAddress;
        GenerateResult pdResult = await nodes.Client.GenerateAsync(request);
        PromptLogprobs pd = ScoresOf(pdResult);
        float[][] reference = Recompute(ids);

        foreach (PromptLogprobs scores in new[] { pd, unified })
        {
            Assert.Equal(ids.Length - 1, scores.Tokens.Count);
            for (int p = 0; p < scores.Tokens.Count; p++)
            {
                PromptTokenLogprob score = scores.Tokens[p];
                float[] row = reference[p];
                Assert.Equal(ids[p + 1], score.TokenId);
                Assert.InRange(score.Logprob, row[ids[p + 1]] - 1e-3f, row[ids[p + 1]] + 1e-3f);
                // Rank = 1 + tokens strictly more likely; within the tolerance a near-tie may fall either way.
                float own = row[ids[p + 1]];
                Assert.InRange(score.Rank, 1 + row.Count(v => v > own + 1e-3f), row.Count(v => v > own - 1e-3f));
                Assert.Equal(3, score.TopLogprobs.Count);
                float[] best = row.OrderDescending().Take(3).ToArray();
                for (int k = 0; k < 3; k++) Assert.InRange(score.TopLogprobs[k].Logprob, best[k] - 1e-3f, best[k] + 1e-3f);
            }
        }
        // Two samples, one prefill: the scores are sent once, and the samples still run.
        Assert.Equal(2, pdResult.Finished.Count);
        Assert.Equal(0, nodes.DecodeState.Budget.ReservedBytes);
    }

    [Fact]
    public async Task A_request_that_does_not_ask_gets_no_scores_and_no_larger_trailer()
    {
        await using NodePair nodes = await NodePair.StartAsync(model.Path);
        int[] ids = TextTokenizer.Load(model.Path).Encode(Prompt).ToArray();
        var request = DecodeTestClient.Greedy(ids, maxTokens: 2, prefillAddress: nodes.PrefillAddress);
        GenerateResult result = await nodes.Client.GenerateAsync(request);
        Assert.DoesNotContain(result.Events, e => e.PromptLogprobs is not null);
    }

    [Fact]
    public async Task Echo_with_max_tokens_0_through_the_gateway_scores_the_prompt_as_the_model_does()
    {
        await using GatewayChain chain = await GatewayChain.StartAsync(model.Path,
            [NodePair.PrefillOptions(model.Path)], [NodePair.DecodeOptions(model.Path)]);
        int[] ids = TextTokenizer.Load(model.Path).Encode(Prompt).ToArray();
        using var response = await chain.Http.PostAsJsonAsync("/v1/completions",
            new { model = GatewayChain.ModelName, prompt = ids, max_tokens = 0, echo = true, logprobs = 1, temperature = 0 });
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        var choice = JsonDocument.Parse(text).RootElement.GetProperty("choices")[0];
        var tokenLogprobs = choice.GetProperty("logprobs").GetProperty("token_logprobs");
        float[][] reference = Recompute(ids);

        Assert.Equal(ids.Length, tokenLogprobs.GetArrayLength());
        Assert.Equal(JsonValueKind.Null, tokenLogprobs[0].ValueKind);
        for (int p = 1; p < ids.Length; p++)
            Assert.InRange(tokenLogprobs[p].GetSingle(), reference[p - 1][ids[p]] - 1e-3f, reference[p - 1][ids[p]] + 1e-3f);
        Assert.Equal(TextTokenizer.Load(model.Path).Decode(ids), choice.GetProperty("text").GetString());
    }
}
