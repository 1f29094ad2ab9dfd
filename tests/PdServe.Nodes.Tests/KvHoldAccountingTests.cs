using Grpc.Core;
using PdServe.Contracts;
using PdServe.TestSupport;

namespace PdServe.Nodes.Tests;

/// <summary>The prefill node's held-KV count returns to exactly 0 however a call ends, even mid-layer.</summary>
public sealed class KvHoldAccountingTests : IDisposable
{
    private readonly TestModel model = new();

    public void Dispose() => model.Dispose();

    [Fact]
    public async Task A_call_cancelled_while_a_layer_is_encoded_leaves_no_kv_held()
    {
        // The worker is held inside layer 2 until the call has ended on the prefill node, then encodes and emits the
        // layer into a job that is already disposed: exactly the window in which bytes used to stay held forever.
        using var inLayer = new SemaphoreSlim(0);
        using var release = new ManualResetEventSlim();
        var faults = new StreamFaults
        {
            BeforeLayer = (layer, _) =>
            {
                if (layer != 2) return;
                inLayer.Release();
                release.Wait(TimeSpan.FromSeconds(60));
            },
        };
        await using NodePair nodes = await NodePair.StartAsync(NodePair.PrefillOptions(model.Path), NodePair.DecodeOptions(model.Path), faults);
        try
        {
            int[] prompt = TinyModels.RandomTokens(60, model.Config.VocabSize, seed: 11);
            for (int attempt = 1; attempt <= 3; attempt++)
            {
                release.Reset();
                using var cancel = new CancellationTokenSource();
                using AsyncServerStreamingCall<GenerateEvent> call = nodes.Client.Raw.Generate(
                    DecodeTestClient.Greedy(prompt, 4, nodes.PrefillAddress), cancellationToken: cancel.Token);
                Assert.True(await inLayer.WaitAsync(TimeSpan.FromSeconds(30)), "the worker never reached layer 2");
                cancel.Cancel();
                await WaitUntil(() => nodes.PrefillState.Metrics.Requests.WithLabels("cancelled").Value == attempt,
                    "the prefill node ended the cancelled call");
                release.Set();
                await WaitUntil(() => nodes.PrefillState.Load.Running == 0, "the worker finished the layer");
                Assert.Equal(0, nodes.PrefillState.Holds.HeldBytes);
            }
        }
        finally
        {
            release.Set();
        }
        // The node still serves, and holds nothing afterwards.
        GenerateResult after = await nodes.Client.GenerateAsync(DecodeTestClient.Greedy([5, 6, 7], 3, nodes.PrefillAddress));
        Assert.Equal(3, after.Tokens().Length);
        Assert.Equal(0, nodes.PrefillState.Holds.HeldBytes);
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(30)) Assert.Fail($"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }
}
