using PdServe.Decode.Admission;
using PdServe.Contracts;
using PdServe.Decode;
using PdServe.NodeHosting;
using PdServe.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace PdServe.Nodes.Tests;

/// <summary>
/// A decode node parks each finished prompt's KV; the conversation's next turn pulls only the new positions' KV (the
/// policy's positions after the parked prompt) and decodes exactly what a cold request decodes — same tokens, same
/// logprobs, with block pruning and the token-aware policy on — while the bytes follow the formula.
/// </summary>
public sealed class ConversationReuseTests : IDisposable
{
    private const int BytesPerPosition = 2 * 2 * 16 * 4; // keys and values × kv heads × head dim × float32
    private readonly TestModel model = new();

    public void Dispose() => model.Dispose();

    /// <summary>A pair with the conversation cache on, and a second decode node on the same prefill node with it off.</summary>
    private async Task<(NodePair Reusing, RunningNode Cold, DecodeTestClient ColdClient)> StartAsync(string? plan)
    {
        NodePair reusing = await NodePair.StartAsync(model.Path, plan);
        RunningNode cold = await DecodeNodeHost.StartAsync(NodePair.Trusting(NodePair.DecodeOptions(model.Path, plan) with { ConversationCache = false },
            reusing.Prefill));
        await cold.Readiness.Loaded;
        return (reusing, cold, new DecodeTestClient(cold.Address));
    }

    private static int[] NextTurn(int[] prompt, GenerateResult reply, int userTokens, int seed, int vocab) =>
        [.. prompt, .. reply.Tokens(), .. TinyModels.RandomTokens(userTokens, vocab, seed)];

    [Fact]
    public async Task Later_turns_send_only_the_new_positions_and_decode_exactly_as_cold_requests_with_pruning_on()
    {
        string plan = model.WritePlan("reuse", decodeSkip: [2], selectedLayers: [1, 3], first: 2, last: 3);
        var (nodes, coldNode, cold) = await StartAsync(plan);
        await using var _ = nodes;
        await using var __ = coldNode;
        using var ___ = cold;
        int vocab = model.Config.VocabSize;

        int[] prompt = TinyModels.RandomTokens(40, vocab, seed: 1);
        int reusable = 0;
        for (int turn = 1; turn <= 3; turn++)
        {
            GenerateResult reused = await nodes.Client.GenerateAsync(DecodeTestClient.Greedy(prompt, 10, nodes.PrefillAddress));
            GenerateResult baseline = await cold.GenerateAsync(DecodeTestClient.Greedy(prompt, 10, nodes.PrefillAddress));

            Assert.Equal(baseline.Tokens(), reused.Tokens());
            Assert.Equal(baseline.Logprobs(), reused.Logprobs());
            Assert.Equal(reusable, reused.Summary.ReusedPromptTokens);
            Assert.Equal(prompt.Length, reused.Summary.ParkedPromptTokens);
            Assert.Equal(0, baseline.Summary.ParkedPromptTokens);
            Assert.Equal(0, baseline.Summary.ReusedPromptTokens);

            // Cold: block 0 keeps every position, selected blocks 1 and 3 their first 2 and last 3; block 2 is skipped.
            long coldBytes = (prompt.Length + 5 + 5) * (long)BytesPerPosition;
            Assert.Equal(coldBytes, baseline.Summary.KvBytesSent);
            // Reused: block 0 sends the positions after the parked prompt; the last 3 are all new ones for 1 and 3.
            long expectedSent = turn == 1 ? coldBytes : (prompt.Length - reusable + 3 + 3) * (long)BytesPerPosition;
            Assert.Equal(expectedSent, reused.Summary.KvBytesSent);
            Assert.Equal(coldBytes - expectedSent, reused.Summary.KvBytesReused);
            Assert.Equal(baseline.Summary.KvBytesFull, reused.Summary.KvBytesFull);

            reusable = prompt.Length;
            prompt = NextTurn(prompt, reused, 20, seed: 10 + turn, vocab);
        }
        Assert.Equal(0, nodes.DecodeState.Budget.ReservedBytes);
        Assert.True(nodes.DecodeState.Budget.ParkedBytes > 0);
    }

    [Fact]
    public async Task Without_a_plan_a_turn_sends_only_its_new_tokens_and_a_restarted_decode_node_serves_it_cold()
    {
        var (nodes, coldNode, cold) = await StartAsync(plan: null);
        await using var _ = nodes;
        await using var __ = coldNode;
        using var ___ = cold;
        int vocab = model.Config.VocabSize;

        int[] first = TinyModels.RandomTokens(30, vocab, seed: 2);
        GenerateResult turn1 = await nodes.Client.GenerateAsync(DecodeTestClient.Greedy(first, 8, nodes.PrefillAddress));
        int[] second = NextTurn(first, turn1, 12, seed: 3, vocab);
        GenerateResult turn2 = await nodes.Client.GenerateAsync(DecodeTestClient.Greedy(second, 8, nodes.PrefillAddress));
        GenerateResult baseline = await cold.GenerateAsync(DecodeTestClient.Greedy(second, 8, nodes.PrefillAddress));

        Assert.Equal(baseline.Tokens(), turn2.Tokens());
        Assert.Equal(baseline.Logprobs(), turn2.Logprobs());
        Assert.Equal(first.Length, turn2.Summary.ReusedPromptTokens);
        // 4 blocks keep everything: only the 8 + 12 new positions travel.
        Assert.Equal(4L * (second.Length - first.Length) * BytesPerPosition, turn2.Summary.KvBytesSent);
        Assert.Equal(4L * first.Length * BytesPerPosition, turn2.Summary.KvBytesReused);

        // A decode node started anew holds nothing: the next turn is a cold request with the same output.
        int[] third = NextTurn(second, turn2, 5, seed: 4, vocab);
        await using RunningNode restarted = await DecodeNodeHost.StartAsync(NodePair.Trusting(NodePair.DecodeOptions(model.Path), nodes.Prefill));
        await restarted.Readiness.Loaded;
        using var restartedClient = new DecodeTestClient(restarted.Address);
        GenerateResult afterRestart = await restartedClient.GenerateAsync(DecodeTestClient.Greedy(third, 8, nodes.PrefillAddress));
        GenerateResult reused = await nodes.Client.GenerateAsync(DecodeTestClient.Greedy(third, 8, nodes.PrefillAddress));
        Assert.Equal(0, afterRestart.Summary.ReusedPromptTokens);
        Assert.Equal(second.Length, reused.Summary.ReusedPromptTokens);
        Assert.Equal(afterRestart.Tokens(), reused.Tokens());
        Assert.Equal(afterRestart.Logprobs(), reused.Logprobs());
    }

    [Fact]
    public async Task Samples_and_prompt_logprobs_work_on_a_reused_turn_and_a_request_needing_room_evicts_parked_kv()
    {
        var (nodes, coldNode, cold) = await StartAsync(plan: null);
        await using var _ = nodes;
        await using var __ = coldNode;
        using var ___ = cold;
        int vocab = model.Config.VocabSize;
        int[] first = TinyModels.RandomTokens(25, vocab, seed: 5);
        GenerateResult turn1 = await nodes.Client.GenerateAsync(DecodeTestClient.Greedy(first, 6, nodes.PrefillAddress));
        int[] second = NextTurn(first, turn1, 7, seed: 6, vocab);

        GenerateRequest Sampled()
        {
            var request = DecodeTestClient.Greedy(second, 6, nodes.PrefillAddress, n: 3);
            request.Sampling.Temperature = 0.8f;
            request.Sampling.Seed = 42;
            request.Sampling.PromptLogprobs = 2;
            return request;
        }
        GenerateResult reused = await nodes.Client.GenerateAsync(Sampled());
        GenerateResult baseline = await cold.GenerateAsync(Sampled());
        Assert.Equal(first.Length, reused.Summary.ReusedPromptTokens);
        for (int sample = 0; sample < 3; sample++)
        {
            Assert.Equal(baseline.Tokens(sample), reused.Tokens(sample));
            Assert.Equal(baseline.Logprobs(sample), reused.Logprobs(sample));
        }
        Assert.Equal(baseline.Events.Single(e => e.PromptLogprobs is not null).PromptLogprobs,
            reused.Events.Single(e => e.PromptLogprobs is not null).PromptLogprobs);

        // Parked now: the second turn's prompt. A request that needs the whole budget but for it evicts it first.
        DecodeNode state = nodes.DecodeState;
        long parked = state.Budget.ParkedBytes;
        Assert.Equal(4L * second.Length * BytesPerPosition, parked);
        using (KvBudget.Reservation? reservation = state.Budget.TryReserve(state.Budget.BudgetBytes - parked / 2))
        {
            Assert.NotNull(reservation);
            Assert.Equal(0, state.Budget.ParkedBytes);
        }
        int[] third = NextTurn(second, reused, 4, seed: 7, vocab);
        GenerateResult afterEviction = await nodes.Client.GenerateAsync(DecodeTestClient.Greedy(third, 4, nodes.PrefillAddress));
        Assert.Equal(0, afterEviction.Summary.ReusedPromptTokens);
    }
}
