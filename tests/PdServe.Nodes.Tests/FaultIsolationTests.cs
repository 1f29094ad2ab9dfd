using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using PdServe.KvTransfer;
using PdServe.Contracts;
using PdServe.NodeHosting;
using PdServe.TestSupport;

namespace PdServe.Nodes.Tests;

/// <summary>
/// Through the real chain (gateway, prefill and decode nodes): a request that causes a failure fails alone and is
/// blamed on itself; a node that breaks or stops is blamed, and only that node.
/// </summary>
public sealed class FaultIsolationTests : IDisposable
{
    private const int Poison = 7;
    private readonly TestModel model = new(poisonedTokens: [Poison]);

    public void Dispose() => model.Dispose();

    private Task<GatewayChain> StartChainAsync(int prefillNodes = 1, int decodeNodes = 1, StreamFaults? faults = null) =>
        GatewayChain.StartAsync(model.Path,
            [.. Enumerable.Range(0, prefillNodes).Select(_ => NodePair.PrefillOptions(model.Path))],
            [.. Enumerable.Range(0, decodeNodes).Select(_ => NodePair.DecodeOptions(model.Path) with
            {
                Host = NodePair.Quiet with { ShutdownTimeout = TimeSpan.FromSeconds(60) },
            })], faults);

    private static Dictionary<string, object> Completion(object prompt, double temperature = 0, int maxTokens = 4) => new()
    {
        ["prompt"] = prompt,
        ["max_tokens"] = maxTokens,
        ["temperature"] = temperature,
    };

    /// <summary>Every node of both pools is available, as it was before.</summary>
    private static async Task AssertAvailable(GatewayChain chain)
    {
        Assert.Equal(chain.Prefill.Select(NodePair.AddressOf).Order(), (await chain.AvailableAsync("prefill")).Order());
        Assert.Equal(chain.Decode.Select(NodePair.AddressOf).Order(), (await chain.AvailableAsync("decode")).Order());
    }

    [Fact]
    public async Task A_poisoned_prompt_is_the_requests_fault_at_every_hop_and_the_nodes_serve_on()
    {
        await using GatewayChain chain = await StartChainAsync();
        using var decode = new DecodeTestClient(chain.Decode[0].Address);
        string prefillAddress = NodePair.AddressOf(chain.Prefill[0]);

        // gRPC level, disaggregated (the prefill node's sampler sees NaN logits) and unified (the decode engine does).
        foreach (string address in new[] { prefillAddress, "" })
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => decode.GenerateAsync(DecodeTestClient.Greedy([5, Poison, 9], 3, address)));
            Faults.AssertFault(error, StatusCode.InvalidArgument, FaultSide.Request);
            Assert.DoesNotContain("127.0.0.1", error.Status.Detail);
        }

        (int status, JsonElement body) = await chain.CompleteAsync(Completion(new[] { 5, Poison, 9 }));
        Assert.Equal(400, status);
        Assert.DoesNotContain("127.0.0.1", body.GetProperty("error").GetProperty("message").GetString());
        await AssertAvailable(chain);

        (int okStatus, JsonElement ok) = await chain.CompleteAsync(Completion(new[] { 5, 6, 9 }));
        Assert.Equal(200, okStatus);
        Assert.Equal(4, ok.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        await AssertAvailable(chain);
        // Nothing runs or waits; the good request's prompt is parked for a next turn, and only that.
        var decodeNode = Decode(chain);
        Assert.Equal(new LoadReport(0, 0, 0, decodeNode.Budget.ParkedBytes), decodeNode.Load);
        Assert.Equal(0, decodeNode.Budget.ReservedBytes);
    }

    [Fact]
    public async Task A_poisoned_prompt_is_a_400_invalid_request_at_the_gateway()
    {
        await using GatewayChain chain = await StartChainAsync();
        (int status, JsonElement body) = await chain.CompleteAsync(Completion(new[] { 5, Poison, 9 }));
        Assert.Equal(400, status);
        Assert.Equal("invalid_request", body.GetProperty("error").GetProperty("code").GetString());
        await AssertAvailable(chain);
    }

    [Fact]
    public async Task A_vanishingly_small_temperature_is_greedy_through_the_chain()
    {
        await using GatewayChain chain = await StartChainAsync();
        int[] prompt = TinyModels.RandomTokens(12, model.Config.VocabSize, seed: 21).Where(t => t != Poison).ToArray();
        (int greedyStatus, JsonElement greedy) = await chain.CompleteAsync(Completion(prompt, temperature: 0, maxTokens: 8));
        (int tinyStatus, JsonElement tiny) = await chain.CompleteAsync(Completion(prompt, temperature: 1e-40, maxTokens: 8));
        Assert.Equal(200, greedyStatus);
        Assert.True(tinyStatus == 200, tiny.ToString());
        Assert.Equal(Text(greedy), Text(tiny));
        await AssertAvailable(chain);
    }

    [Fact]
    public async Task A_prefill_node_that_dies_mid_transfer_is_blamed_and_the_gateway_retries_on_another()
    {
        var stall = new ChunkStall(chunk: 2);
        await using GatewayChain chain = await StartChainAsync(prefillNodes: 2, faults: stall.Faults);
        int[] prompt = TinyModels.RandomTokens(80, model.Config.VocabSize, seed: 3).Select(t => t == Poison ? Poison + 1 : t).ToArray();

        // gRPC level: the decode node blames its prefill node.
        using var decode = new DecodeTestClient(chain.Decode[0].Address);
        Task<GenerateResult> direct = decode.GenerateAsync(DecodeTestClient.Greedy(prompt, 4, NodePair.AddressOf(chain.Prefill[0])));
        await stall.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        await chain.Prefill[0].StopAsync(new CancellationToken(canceled: true));
        var error = await Assert.ThrowsAsync<RpcException>(() => direct);
        Faults.AssertFault(error, StatusCode.Unavailable, FaultSide.Peer);
        // Nothing runs or waits; the good request's prompt is parked for a next turn, and only that.
        var decodeNode = Decode(chain);
        Assert.Equal(new LoadReport(0, 0, 0, decodeNode.Budget.ParkedBytes), decodeNode.Load);
        Assert.Equal(0, decodeNode.Budget.ReservedBytes);

        // Gateway level: the dead prefill node leaves its pool; requests succeed on the other one.
        for (int i = 0; i < 3; i++)
        {
            (int status, JsonElement body) = await chain.CompleteAsync(Completion(prompt));
            Assert.True(status == 200, body.ToString());
        }
        await chain.WaitUntilAvailableAsync("prefill", chain.Prefill[1]);
        Assert.Equal(chain.Decode.Select(NodePair.AddressOf).Order(), (await chain.AvailableAsync("decode")).Order());
    }

    [Fact]
    public async Task A_killed_decode_node_is_a_transport_failure_without_a_fault_trailer()
    {
        int port = NodeProcess.FreePort();
        using NodeProcess node = await NodeProcess.StartAsync("decode", "--model", model.Path, "--port", $"{port}", "--threads", "1");
        using var client = new DecodeTestClient(new Uri($"http://127.0.0.1:{port}"));
        var request = DecodeTestClient.Greedy(TinyModels.RandomTokens(8, model.Config.VocabSize, seed: 5).Select(t => t == Poison ? Poison + 1 : t), 1500);
        using AsyncServerStreamingCall<GenerateEvent> call = client.Raw.Generate(request);
        for (int i = 0; i < 3; i++) Assert.True(await call.ResponseStream.MoveNext());
        node.Kill();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext()) { }
        });
        Faults.AssertTransportFailure(error);
    }

    [Fact]
    public async Task A_stopping_decode_node_finishes_its_call_refuses_new_ones_and_the_gateway_routes_around_it()
    {
        // Only the first transfer stalls: it is the call in flight while its decode node stops.
        var stall = new ChunkStall(chunk: 1, firstStreamOnly: true);
        await using GatewayChain chain = await StartChainAsync(decodeNodes: 2, faults: stall.Faults);
        int[] prompt = TinyModels.RandomTokens(40, model.Config.VocabSize, seed: 4).Select(t => t == Poison ? Poison + 1 : t).ToArray();
        string prefillAddress = NodePair.AddressOf(chain.Prefill[0]);
        using var stopping = new DecodeTestClient(chain.Decode[0].Address);
        Task<GenerateResult> inFlight = stopping.GenerateAsync(DecodeTestClient.Greedy(prompt, 4, prefillAddress));
        await stall.Reached.WaitAsync(TimeSpan.FromSeconds(30));

        Task stop = chain.Decode[0].StopAsync();
        try
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => stopping.GenerateAsync(DecodeTestClient.Greedy(prompt, 4, prefillAddress)));
            if (refused.Status.DebugException is null) Faults.AssertFault(refused, StatusCode.Unavailable, FaultSide.Self);
            else Faults.AssertTransportFailure(refused);
            Assert.False(inFlight.IsCompleted, "the call in flight must not be cut off");
        }
        finally
        {
            stall.Release();
        }
        GenerateResult finished = await inFlight.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(4, finished.Tokens().Length);
        await stop.WaitAsync(TimeSpan.FromSeconds(30));

        for (int i = 0; i < 3; i++)
        {
            (int status, JsonElement body) = await chain.CompleteAsync(Completion(prompt));
            Assert.True(status == 200, body.ToString());
        }
        // The prefill node was never blamed for its decode node stopping.
        Assert.Equal([NodePair.AddressOf(chain.Prefill[0])], await chain.AvailableAsync("prefill"));
    }

    private static Decode.DecodeNode Decode(GatewayChain chain) =>
        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Decode.DecodeNode>(chain.Decode[0].Services);

    private static string Text(JsonElement completion) => completion.GetProperty("choices")[0].GetProperty("text").GetString()!;
}
