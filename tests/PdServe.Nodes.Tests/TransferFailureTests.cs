using PdServe.Decode.Admission;
using Google.Protobuf;
using Grpc.Core;
using PdServe.KvTransfer;
using PdServe.Contracts;
using PdServe.TestSupport;

namespace PdServe.Nodes.Tests;

/// <summary>
/// A transfer that goes wrong fails the request with the promised status, blamed on the prefill node (peer), and never
/// yields wrong tokens; the decode node's KV reservations and request counts are back to idle when the caller sees the
/// call end, its batch right after, and the prefill node holds no KV afterwards.
/// </summary>
public sealed class TransferFailureTests : IDisposable
{
    private readonly TestModel model = new();

    public void Dispose() => model.Dispose();

    private int[] Prompt(int length = 80) => TinyModels.RandomTokens(length, model.Config.VocabSize, seed: 3);

    private static async Task<RpcException> Fails(Task<GenerateResult> call) => await Assert.ThrowsAsync<RpcException>(() => call);

    /// <summary>For a call the node ended itself: its counts and reservation were returned before the status went out.</summary>
    private static async Task AssertIdleAtOnce(NodePair nodes)
    {
        Assert.Equal(new NodeHosting.LoadReport(0, 0, 0), nodes.DecodeState.Load);
        Assert.Equal(0, nodes.DecodeState.Budget.ReservedBytes);
        await AssertIdle(nodes);
    }

    private static async Task AssertIdle(NodePair nodes)
    {
        // The engine frees a cancelled sequence before its next step; give that step a moment.
        for (int i = 0; i < 100 && (nodes.DecodeState.RunningSequences > 0 || nodes.PrefillState.Holds.HeldBytes > 0); i++)
            await Task.Delay(20);
        Assert.Equal(0, nodes.DecodeState.Budget.ReservedBytes);
        Assert.Equal(0, nodes.DecodeState.RunningSequences);
        Assert.Equal(new NodeHosting.LoadReport(0, 0, 0), nodes.DecodeState.Load);
        Assert.Equal(0, nodes.PrefillState.Holds.HeldBytes);
    }

    [Fact]
    public async Task A_corrupted_chunk_fails_the_request_with_data_loss()
    {
        var faults = new StreamFaults
        {
            AlterChunk = chunk =>
            {
                if (chunk.Sequence != 3) return chunk;
                byte[] data = chunk.Data.ToByteArray();
                data[data.Length / 2] ^= 0x40;
                KvChunk altered = chunk.Clone();
                altered.Data = ByteString.CopyFrom(data);
                return altered;
            },
        };
        await using NodePair nodes = await NodePair.StartAsync(
            NodePair.PrefillOptions(model.Path), NodePair.DecodeOptions(model.Path), faults);
        RpcException error = await Fails(nodes.Client.GenerateAsync(DecodeTestClient.Greedy(Prompt(), 5, nodes.PrefillAddress)));
        Faults.AssertFault(error, StatusCode.DataLoss, FaultSide.Peer);
        Assert.Contains("chunk 3 is corrupt", error.Status.Detail);
        Assert.Equal(1, nodes.DecodeState.Metrics.TransferFailures.WithLabels("DataLoss").Value);
        await AssertIdleAtOnce(nodes);
    }

    [Theory]
    [InlineData("prompt_tokens")]
    [InlineData("wire_dtype")]
    [InlineData("overlapping_ranges")]
    [InlineData("duplicate_chunk")]
    [InlineData("unknown_part")]
    public async Task A_stream_that_breaks_the_protocol_is_data_loss_blamed_on_the_prefill_node(string breakage)
    {
        var faults = new StreamFaults
        {
            AlterHeader = header =>
            {
                KvHeader altered = header.Clone();
                switch (breakage)
                {
                    case "prompt_tokens":
                        altered.PromptTokens++;
                        break;
                    case "wire_dtype":
                        altered.WireDtype = (WireDtype)9;
                        break;
                    case "overlapping_ranges":
                        altered.Layers[1].Ranges.Add(new PositionRange { Start = 0, Count = 1 });
                        break;
                }
                return altered;
            },
            AlterChunk = chunk =>
            {
                KvChunk altered = chunk.Clone();
                if (breakage == "duplicate_chunk" && chunk.Sequence == 1) altered.Offset = 0;
                if (breakage == "unknown_part" && chunk.Sequence == 1) altered.Part = (KvPart)4;
                return altered;
            },
        };
        await using NodePair nodes = await NodePair.StartAsync(
            NodePair.PrefillOptions(model.Path), NodePair.DecodeOptions(model.Path) with { ChunkBytes = 4096 }, faults);
        RpcException error = await Fails(nodes.Client.GenerateAsync(DecodeTestClient.Greedy(Prompt(), 5, nodes.PrefillAddress)));
        Faults.AssertFault(error, StatusCode.DataLoss, FaultSide.Peer);
        await AssertIdleAtOnce(nodes);
        // The decode node still serves (unified mode: the prefill node's stream stays broken).
        Assert.Equal(5, (await nodes.Client.GenerateAsync(DecodeTestClient.Greedy(Prompt(), 5))).Tokens().Length);
    }

    [Fact]
    public async Task A_prefill_node_that_dies_mid_stream_fails_the_request_as_unavailable_and_frees_its_memory()
    {
        var stall = new ChunkStall(chunk: 2);
        await using NodePair nodes = await NodePair.StartAsync(
            NodePair.PrefillOptions(model.Path), NodePair.DecodeOptions(model.Path), stall.Faults);
        Task<GenerateResult> call = nodes.Client.GenerateAsync(DecodeTestClient.Greedy(Prompt(), 5, nodes.PrefillAddress));
        await stall.Reached.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(nodes.DecodeState.Budget.ReservedBytes > 0);

        // Stop without grace: Kestrel aborts the connection as a killed process's would be reset.
        var started = System.Diagnostics.Stopwatch.StartNew();
        await nodes.Prefill.StopAsync(new CancellationToken(canceled: true));
        RpcException error = await Fails(call);
        Faults.AssertFault(error, StatusCode.Unavailable, FaultSide.Peer);
        Assert.Contains(nodes.PrefillAddress, error.Status.Detail);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"took {started.Elapsed}");
        await AssertIdleAtOnce(nodes);
    }

    [Fact]
    public async Task A_stalled_prefill_node_fails_the_request_with_deadline_exceeded_and_both_nodes_let_go()
    {
        var faults = new StreamFaults { BeforeChunk = (_, cancellation) => Task.Delay(Timeout.Infinite, cancellation) };
        await using NodePair nodes = await NodePair.StartAsync(
            NodePair.PrefillOptions(model.Path),
            NodePair.DecodeOptions(model.Path) with { TransferTimeout = TimeSpan.FromSeconds(1) }, faults);
        var started = System.Diagnostics.Stopwatch.StartNew();
        RpcException error = await Fails(nodes.Client.GenerateAsync(DecodeTestClient.Greedy(Prompt(), 5, nodes.PrefillAddress)));
        Faults.AssertFault(error, StatusCode.DeadlineExceeded, FaultSide.Peer);
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        await AssertIdleAtOnce(nodes);
    }

    [Fact]
    public async Task Kv_not_read_within_its_lease_is_dropped_by_the_prefill_node()
    {
        var faults = new StreamFaults { BeforeChunk = (_, cancellation) => Task.Delay(Timeout.Infinite, cancellation) };
        await using NodePair nodes = await NodePair.StartAsync(
            NodePair.PrefillOptions(model.Path) with { KvLease = TimeSpan.FromMilliseconds(300) },
            NodePair.DecodeOptions(model.Path), faults);
        RpcException error = await Fails(nodes.Client.GenerateAsync(DecodeTestClient.Greedy(Prompt(), 5, nodes.PrefillAddress)));
        Faults.AssertFault(error, StatusCode.Unavailable, FaultSide.Peer);
        Assert.Contains("lease", error.Status.Detail);
        await AssertIdleAtOnce(nodes);
    }

    [Fact]
    public async Task An_unreachable_trusted_prefill_node_is_unavailable_at_once()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int closedPort = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        string closed = $"http://127.0.0.1:{closedPort}";
        await using NodePair nodes = await NodePair.StartAsync(NodePair.PrefillOptions(model.Path),
            NodePair.DecodeOptions(model.Path) with { TrustedPrefillNodes = [closed] });
        RpcException error = await Fails(nodes.Client.GenerateAsync(DecodeTestClient.Greedy(Prompt(), 5, closed)));
        Faults.AssertFault(error, StatusCode.Unavailable, FaultSide.Peer);
        Assert.Contains($"127.0.0.1:{closedPort}", error.Status.Detail);
        await AssertIdleAtOnce(nodes);
    }

    [Fact]
    public async Task A_request_beyond_the_kv_budget_is_refused_with_resource_exhausted()
    {
        // A 20-token prompt with 10 new tokens needs 4 blocks × 30 entries × 256 bytes, plus the received 4 × 20 × 256.
        await using NodePair nodes = await NodePair.StartAsync(NodePair.PrefillOptions(model.Path),
            NodePair.DecodeOptions(model.Path) with { KvBudgetBytes = 4 * 30 * 256 + 4 * 20 * 256 });
        GenerateResult fits = await nodes.Client.GenerateAsync(DecodeTestClient.Greedy(Prompt(20), 10, nodes.PrefillAddress));
        Assert.Equal(10, fits.Tokens().Length);
        RpcException error = await Fails(nodes.Client.GenerateAsync(DecodeTestClient.Greedy(Prompt(21), 10, nodes.PrefillAddress)));
        Faults.AssertFault(error, StatusCode.ResourceExhausted, FaultSide.Self);
        Assert.Contains($"needs {4 * 31 * 256 + 4 * 21 * 256} bytes of KV", error.Status.Detail);
        await AssertIdleAtOnce(nodes);
    }

    [Fact]
    public async Task Cancelling_a_call_frees_its_sequence_and_reservation()
    {
        await using NodePair nodes = await NodePair.StartAsync(model.Path);
        using var cancel = new CancellationTokenSource();
        using AsyncServerStreamingCall<GenerateEvent> call = nodes.Client.Raw.Generate(
            DecodeTestClient.Greedy(Prompt(), 200, nodes.PrefillAddress), cancellationToken: cancel.Token);
        for (int i = 0; i < 3; i++) Assert.True(await call.ResponseStream.MoveNext(cancel.Token));
        Assert.Equal(1, nodes.DecodeState.Load.Running);
        cancel.Cancel();
        await AssertIdle(nodes);
    }
}
