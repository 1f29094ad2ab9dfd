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

    /// <summary>
    /// The affinity policies' bound: a node that holds a call's KV (or its prefix) is chosen only while its outstanding
    /// work stays within this factor of the pool's mean (consistent hashing with bounded loads); beyond, least load.
    /// </summary>
    public double AffinityLoadFactor { get; set; } = 1.5;

    /// <summary>
    /// Tokens of a prompt's first block, whose hash places the prompt on a prefill node (PdServePrefixAffinity); the
    /// prefill nodes' --prefix-block-tokens. Shorter prompts are balanced by load alone.
    /// </summary>
    public int PrefixBlockTokens { get; set; } = 128;

    /// <summary>Parked prompts the gateway remembers the decode node of (PdServeConversationAffinity).</summary>
    public int ConversationDirectoryCapacity { get; set; } = 65536;
}
