using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace PdServe.Gateway.Routing;

/// <summary>
/// Passive health for calls the gateway makes itself: YARP's passive policies watch its forwarder, which the
/// gateway does not use for generation, so a node whose call failed is marked unhealthy here directly. It returns
/// after the cluster's <c>Passive.ReactivationPeriod</c> (or <see cref="RoutingOptions.FailedNodeReactivation"/>).
/// Takes effect where the cluster enables passive health checks, as with forwarded traffic. Only the node a failure
/// is attributed to is reported (<see cref="Generation.NodeCallFailure"/>): never one for a request's own fault.
/// </summary>
public sealed class NodeFailureReporter(IDestinationHealthUpdater healthUpdater, IOptionsMonitor<RoutingOptions> options,
    ILogger<NodeFailureReporter> logger)
{
    /// <summary>Takes <paramref name="node"/> out of its pool for what call <paramref name="callId"/> saw of it.</summary>
    public void ReportFailure(NodeChoice node, string callId, string reason)
    {
        var config = node.Cluster.Model.Config.HealthCheck?.Passive;
        TimeSpan period = config?.ReactivationPeriod ?? options.CurrentValue.FailedNodeReactivation;
        logger.LogWarning("Call {CallId}: node {Address} in the {Pool} pool failed ({Reason}); out of the pool for {Period}",
            callId, node.Address, node.Pool, reason, period);
        healthUpdater.SetPassive(node.Cluster, node.Destination, DestinationHealth.Unhealthy, period);
    }
}
