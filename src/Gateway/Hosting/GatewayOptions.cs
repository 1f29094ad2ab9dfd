using PdServe.Contracts;

namespace PdServe.Gateway.Hosting;

/// <summary>The gateway's own settings: configuration section <c>Gateway</c> (the pools live in <c>ReverseProxy</c>).</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>Hugging Face model directory; the gateway reads only its config and tokenizer files, never weights.</summary>
    public string ModelDirectory { get; set; } = "";

    /// <summary>The id clients pass as <c>model</c>; empty means the model directory's name.</summary>
    public string ModelName { get; set; } = "";

    /// <summary>
    /// Accepted Bearer keys, required on <c>/v1</c>, <c>/pools</c> and <c>/metrics</c> (<c>/healthz</c> stays open for
    /// probes); empty means all are open (fine on 127.0.0.1, not on a network).
    /// </summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>
    /// Serve <c>/pools</c> and <c>/metrics</c> without a key even when <see cref="ApiKeys"/> are set, for a scraper
    /// that cannot send one. Off by default: <c>/pools</c> lists the nodes' internal addresses.
    /// </summary>
    public bool OpenOperationalEndpoints { get; set; }

    /// <summary>Sent to every node as gRPC metadata <c>x-pdserve-token</c>; empty sends none.</summary>
    public string NodeToken { get; set; } = "";

    public GatewayLimits Limits { get; set; } = new();

    /// <summary>How often each node's <c>/load</c> is polled for the least-load policy.</summary>
    public TimeSpan LoadPollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a node that failed a call stays out of its pool before it may be tried again.</summary>
    public TimeSpan FailedNodeReactivation { get; set; } = TimeSpan.FromSeconds(5);
}
