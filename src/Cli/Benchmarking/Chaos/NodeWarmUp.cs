using Grpc.Core;
using Grpc.Net.Client;
using PdServe.Cli.Cluster;
using PdServe.Contracts;

namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>
/// Brings a node process instance to its working-set high-water mark before its RSS baseline is taken, so that RSS
/// growth afterwards means a leak and not the first time a shape was seen (the KV cache grows its capacity by
/// doubling when a sequence first needs it). It sends the run's largest shapes straight to the node over gRPC — every
/// instance, the first ones and each restart, whatever the gateway's routing would do: to a decode node, enough
/// requests of n = max samples of a one-token prompt that fill the context (the <c>all-at-once</c> poison's shape) to
/// fill its whole batch; to a prefill node, through a decode node, the longest prompt of the run with n = max.
/// </summary>
public sealed class NodeWarmUp(LocalCluster cluster, int contextLength, int maxSamples, IReadOnlyList<int> longestPrompt)
{
    // The batch of a decode node that `up` starts (it passes no --max-batch).
    private static readonly int DecodeBatch = new PdServe.Decode.DecodeNodeOptions { ModelDirectory = "" }.MaxBatchSize;

    public async Task RunAsync(NodeProcess node, CancellationToken cancellationToken)
    {
        int calls = node.Spec.Role == NodeRole.Decode ? (DecodeBatch + maxSamples - 1) / maxSamples : 1;
        await Task.WhenAll(Enumerable.Range(0, calls).Select(i => CallAsync(node, i, cancellationToken)));
    }

    private async Task CallAsync(NodeProcess node, int index, CancellationToken cancellationToken)
    {
        var nodes = cluster.Nodes;
        bool isDecode = node.Spec.Role == NodeRole.Decode;
        NodeProcess decode = isDecode ? node : nodes.First(n => n.Spec.Role == NodeRole.Decode);
        string prefillAddress = isDecode
            ? nodes.FirstOrDefault(n => n.Spec.Role == NodeRole.Prefill)?.Spec.Address ?? ""
            : node.Spec.Address;
        var request = new GenerateRequest
        {
            RequestId = $"warm-up-{node.Spec.Name}-{node.Pid}-{index}",
            N = maxSamples,
            PrefillAddress = prefillAddress,
            Sampling = new SamplingOptions { Temperature = 0, MaxTokens = isDecode ? contextLength - 1 : 1, IgnoreEos = true },
        };
        request.PromptTokenIds.AddRange(isDecode ? longestPrompt.Take(1) : longestPrompt);
        using var channel = GrpcChannel.ForAddress(decode.Spec.Address);
        var client = new DecodeService.DecodeServiceClient(channel);
        var headers = new Metadata { { PdServe.Contracts.NodeToken.Header, cluster.NodeToken } };
        using var call = client.Generate(request, headers, cancellationToken: cancellationToken);
        await foreach (var _ in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            // Only the shapes matter, not the tokens.
        }
    }
}
