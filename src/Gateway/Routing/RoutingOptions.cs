namespace PdServe.Gateway.Routing;

/// <summary>How the gateway calls and balances its nodes (configuration section <c>Gateway</c>; the pools live in <c>ReverseProxy</c>).</summary>
public sealed class RoutingOptions
{
    /// <summary>Sent to every node as gRPC metadata <c>x-pdserve-token</c>; empty sends none.</summary>
    public string NodeToken { get; set; } = "";

    /// <summary>How often each node's <c>/load</c> is polled for the least-load policy.</summary>
    public TimeSpan LoadPollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a node that failed a call stays out of its pool before it may be tried again.</summary>
    public TimeSpan FailedNodeReactivation { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often a pool given as a DNS name (a Kubernetes headless Service) is resolved again, so a scaled-up pod gets
    /// traffic within this period. YARP's own default is 5 minutes.
    /// </summary>
    public TimeSpan DnsRefreshPeriod { get; set; } = TimeSpan.FromSeconds(5);
}
