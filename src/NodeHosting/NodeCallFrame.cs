using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PdServe.Contracts;
using PdServe.Engine.Generation;
using PdServe.Engine.Sampling;

namespace PdServe.NodeHosting;

/// <summary>
/// What runs around every gRPC call of either node: refusing calls while the model loads or the host stops, counting
/// each call by outcome, and ending every failure with a <see cref="NodeFault"/> status — the caller going away is
/// CANCELLED (request), bad input INVALID_ARGUMENT (request), anything unforeseen this node's INTERNAL error, logged.
/// </summary>
public sealed class NodeCallFrame(Stage role, ServingNode node, IHostApplicationLifetime lifetime, ILogger logger)
{
    private string NodeName => role == Stage.Prefill ? "prefill" : "decode";

    /// <summary>UNAVAILABLE (self) while the model is not loaded, and once the host is stopping (calls in flight finish).</summary>
    public void EnsureServing()
    {
        if (!node.Readiness.IsReady)
            throw NodeFault.Error(StatusCode.Unavailable, $"the {NodeName} node's model is not loaded yet", FaultSide.Self);
        if (lifetime.ApplicationStopping.IsCancellationRequested)
            throw NodeFault.Error(StatusCode.Unavailable, $"the {NodeName} node is shutting down", FaultSide.Self);
    }

    /// <summary>
    /// Runs <paramref name="serve"/> and counts its outcome in pdserve_requests_total ("ok", "cancelled" or the status
    /// code). <paramref name="translate"/> gives the node's own status for an error it knows (null: the common rules);
    /// <paramref name="failed"/> sees every failure's status and outcome label.
    /// </summary>
    public async Task RunAsync(ServerCallContext context, string requestId, Func<Task> serve,
        Func<Exception, RpcException?>? translate = null, Action<RpcException, string>? failed = null)
    {
        RpcException status;
        string outcome;
        try
        {
            await serve();
            node.Metrics.Requests.WithLabels("ok").Inc();
            return;
        }
        catch (Exception) when (context.CancellationToken.IsCancellationRequested)
        {
            status = NodeFault.Error(StatusCode.Cancelled, "the caller went away", FaultSide.Request);
            outcome = "cancelled";
        }
        catch (Exception error)
        {
            status = translate?.Invoke(error) ?? ToStatus(error, requestId);
            outcome = status.StatusCode.ToString();
        }
        node.Metrics.Requests.WithLabels(outcome).Inc();
        failed?.Invoke(status, outcome);
        throw status;
    }

    private RpcException ToStatus(Exception error, string requestId)
    {
        if (error is ChannelClosedException { InnerException: { } inner }) error = inner;
        switch (error)
        {
            case RpcException status when NodeFault.Of(status) is not null:
                return status;
            case RequestFaultException or ArgumentException:
                return NodeFault.Error(StatusCode.InvalidArgument, error.Message, FaultSide.Request);
            default:
                logger.LogError(error, "{Work} of request {RequestId} failed", role == Stage.Prefill ? "Prefill" : "Generation", requestId);
                return NodeFault.Error(StatusCode.Internal,
                    $"{(role == Stage.Prefill ? "the prefill node failed" : "decoding failed")}: {error.GetType().Name}", FaultSide.Self);
        }
    }
}
