using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PdServe.Gateway.Routing;
using PdServe.TestSupport;

namespace PdServe.Nodes.Tests;

/// <summary>
/// Prefix reuse end to end, gateway → decode → prefill with real nodes: a conversation's later turns return to the
/// decode node that parked the previous prompt, send only the new positions, take the shared leading blocks from the
/// prefill node's prefix cache, report both in usage — and return the same text and logprobs as the same cluster with
/// every kind of reuse off.
/// </summary>
public sealed class ReuseThroughTheGatewayTests : IDisposable
{
    private const int BytesPerPosition = 2 * 2 * 16 * 4;
    private readonly TestModel model = new();

    public void Dispose() => model.Dispose();

    private Task<GatewayChain> Chain(bool reuse) => GatewayChain.StartAsync(model.Path,
        [NodePair.PrefillOptions(model.Path) with { PrefixCacheBytes = reuse ? 64L << 20 : 0 }],
        [.. Enumerable.Range(0, 2).Select(_ => NodePair.DecodeOptions(model.Path) with { ConversationCache = reuse })],
        prefillPolicy: reuse ? PrefixAffinityPolicy.PolicyName : LeastReportedLoadPolicy.PolicyName,
        decodePolicy: reuse ? ConversationAffinityPolicy.PolicyName : LeastReportedLoadPolicy.PolicyName);

    private static Dictionary<string, object> Turn(int[] prompt) => new()
    {
        ["prompt"] = prompt, ["max_tokens"] = 8, ["temperature"] = 0, ["logprobs"] = 1, ["ignore_eos"] = true,
    };

    [Fact]
    public async Task Later_turns_reuse_both_caches_and_answer_exactly_as_without_reuse()
    {
        await using GatewayChain reusing = await Chain(reuse: true);
        await using GatewayChain cold = await Chain(reuse: false);
        int vocab = model.Config.VocabSize;

        int[] prompt = TinyModels.RandomTokens(150, vocab, seed: 21);
        int parked = 0;
        for (int turn = 1; turn <= 3; turn++)
        {
            (int status, JsonElement reused) = await reusing.CompleteAsync(Turn(prompt));
            (int coldStatus, JsonElement baseline) = await cold.CompleteAsync(Turn(prompt));
            Assert.Equal(200, status);
            Assert.Equal(200, coldStatus);
            JsonElement choice = reused.GetProperty("choices")[0], coldChoice = baseline.GetProperty("choices")[0];
            Assert.Equal(coldChoice.GetProperty("text").GetString(), choice.GetProperty("text").GetString());
            Assert.Equal(coldChoice.GetProperty("logprobs").GetProperty("token_logprobs").GetRawText(),
                choice.GetProperty("logprobs").GetProperty("token_logprobs").GetRawText());

            JsonElement usage = reused.GetProperty("usage"), coldUsage = baseline.GetProperty("usage");
            JsonElement kv = usage.GetProperty("kv_transfer");
            Assert.Equal(parked, kv.GetProperty("reused_prompt_tokens").GetInt32());
            // 4 blocks keep every position: only the positions after the parked prompt travel.
            Assert.Equal(4L * (prompt.Length - parked) * BytesPerPosition, kv.GetProperty("bytes_sent").GetInt64());
            Assert.Equal(4L * parked * BytesPerPosition, kv.GetProperty("bytes_reused").GetInt64());
            // Every later prompt starts with the first one's 150 tokens: one full 128-token block in the prefix cache.
            Assert.Equal(turn == 1 ? 0 : 128, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
            Assert.Equal(0, coldUsage.GetProperty("kv_transfer").GetProperty("reused_prompt_tokens").GetInt32());
            Assert.Equal(0, coldUsage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());

            parked = prompt.Length;
            prompt = [.. prompt, .. TinyModels.RandomTokens(20, vocab, seed: 30 + turn)];
        }
        // One decode node served the whole conversation (the other only ever saw nothing of it).
        var served = reusing.Decode.Select(n => n.Services.GetRequiredService<PdServe.Decode.DecodeNode>().Budget.ParkedBytes).ToArray();
        Assert.Single(served, bytes => bytes > 0);
    }
}
