namespace PdServe.Gateway.Api;

/// <summary>Who may call the gateway (configuration section <c>Gateway</c>).</summary>
public sealed class ApiKeyOptions
{
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
}
