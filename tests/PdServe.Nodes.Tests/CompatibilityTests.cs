using Grpc.Core;
using PdServe.Contracts;
using PdServe.KvTransfer;
using PdServe.TestSupport;

namespace PdServe.Nodes.Tests;

/// <summary>KV only moves between nodes that run the same weights and the same plan; otherwise FAILED_PRECONDITION says which.</summary>
public sealed class CompatibilityTests : IDisposable
{
    private readonly TestModel model = new(seed: 5);
    private readonly TestModel other = new(seed: 6);

    public void Dispose()
    {
        model.Dispose();
        other.Dispose();
    }

    [Fact]
    public async Task Different_weights_are_refused_naming_the_weights()
    {
        await using NodePair nodes = await NodePair.StartAsync(NodePair.PrefillOptions(other.Path), NodePair.DecodeOptions(model.Path));
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            nodes.Client.GenerateAsync(DecodeTestClient.Greedy([5, 6, 7], 3, nodes.PrefillAddress)));
        Faults.AssertFault(error, StatusCode.FailedPrecondition, FaultSide.Peer);
        Assert.Contains("weights differ", error.Status.Detail);
        Assert.Equal(0, nodes.DecodeState.Budget.ReservedBytes);
    }

    [Fact]
    public async Task A_different_plan_is_refused_naming_the_plan()
    {
        string prefillPlan = model.WritePlan("a", selectedLayers: [1], first: 1, last: 2);
        string decodePlan = model.WritePlan("b", selectedLayers: [1], first: 1, last: 3);
        await using NodePair nodes = await NodePair.StartAsync(NodePair.PrefillOptions(model.Path, prefillPlan), NodePair.DecodeOptions(model.Path, decodePlan));
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            nodes.Client.GenerateAsync(DecodeTestClient.Greedy(TinyModels.RandomTokens(10, model.Config.VocabSize, 1), 3, nodes.PrefillAddress)));
        Faults.AssertFault(error, StatusCode.FailedPrecondition, FaultSide.Peer);
        Assert.Contains("plan differs", error.Status.Detail);
    }
}
