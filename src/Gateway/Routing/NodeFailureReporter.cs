using Microsoft.Extensions.Options;
using PdServe.Gateway.Hosting;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace PdServe.Gateway.Routing;

/// <summary>
/// Passive health for calls the gateway makes itself: YARP's passive policies watch its forwarder, which the
/// gateway does not use for generation, so a node whose call failed is marked unhealthy here directly. It returns
/// after the cluster's <c>Passive.ReactivationPeriod</c> (or <see cref="GatewayOptions.FailedNodeReactivation"/>).
/// Takes effect where the cluster enables passive health checks, as with forwarded traffic.
/// </summary>
public sealed class NodeFailureReporter(IDestinationHealthUpdater healthUpdater, IOptionsMonitor<GatewayOptions> options,
    ILogger<NodeFailureReporter> logger)
{
    public void ReportFailure(NodeChoice node, string reason)
    {
        var config = node.Cluster.Model.Config.HealthCheck?.Passive;
        TimeSpan period = config?.ReactivationPeriod ?? options.CurrentValue.FailedNodeReactivation;
        logger.LogWarning("Node {Address} in the {Pool} pool failed ({Reason}); out of the pool for {Period}",
            node.Address, node.Pool, reason, period);
        healthUpdater.SetPassive(node.Cluster, node.Destination, DestinationHealth.Unhealthy, period);
    }
}
