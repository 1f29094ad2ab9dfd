using Grpc.Core;
using PdServe.KvTransfer;
using PdServe.Contracts;

namespace PdServe.Nodes.Tests;

/// <summary>Nodes started with a cluster token refuse callers without it, and the decode node presents it to the prefill node.</summary>
public sealed class NodeTokenTests : IDisposable
{
    private readonly TestModel model = new(seed: 5);

    public void Dispose() => model.Dispose();

    private static Task<NodePair> StartAsync(string model, string prefillToken, string decodeToken) => NodePair.StartAsync(
        NodePair.PrefillOptions(model) with { Host = NodePair.Quiet with { NodeToken = prefillToken } },
        NodePair.DecodeOptions(model) with { Host = NodePair.Quiet with { NodeToken = decodeToken } });

    private static async Task<int[]> GenerateAsync(NodePair nodes, string? token)
    {
        Metadata? headers = token is null ? null : new Metadata { { NodeToken.Header, token } };
        using AsyncServerStreamingCall<GenerateEvent> call =
            nodes.Client.Raw.Generate(DecodeTestClient.Greedy([5, 6, 7], 3, nodes.PrefillAddress), headers);
        var tokens = new List<int>();
        await foreach (GenerateEvent item in call.ResponseStream.ReadAllAsync())
            if (item.Token is { } t) tokens.Add(t.TokenId);
        return tokens.ToArray();
    }

    [Fact]
    public async Task The_right_token_serves_a_pd_request_and_a_missing_or_wrong_one_is_unauthenticated()
    {
        await using NodePair nodes = await StartAsync(model.Path, "s3cret", "s3cret");

        Assert.Equal(3, (await GenerateAsync(nodes, "s3cret")).Length);
        var missing = await Assert.ThrowsAsync<RpcException>(() => GenerateAsync(nodes, null));
        Faults.AssertFault(missing, StatusCode.Unauthenticated, FaultSide.Request);
        Assert.Contains(NodeToken.Header, missing.Status.Detail);
        var wrong = await Assert.ThrowsAsync<RpcException>(() => GenerateAsync(nodes, "guess"));
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
        Assert.Equal(0, nodes.DecodeState.Budget.ReservedBytes);
    }

    [Fact]
    public async Task A_prefill_node_with_another_token_refuses_the_decode_nodes_pull()
    {
        await using NodePair nodes = await StartAsync(model.Path, "prefill-token", "decode-token");

        var error = await Assert.ThrowsAsync<RpcException>(() => GenerateAsync(nodes, "decode-token"));
        Faults.AssertFault(error, StatusCode.FailedPrecondition, FaultSide.Peer);
        Assert.Contains("token", error.Status.Detail);
        Assert.Equal(0, nodes.DecodeState.Budget.ReservedBytes);
    }
}
