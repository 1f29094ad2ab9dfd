using PdServe.Contracts;

namespace PdServe.NodeHosting;

/// <summary>Where and how a node listens; shared by the prefill and decode nodes.</summary>
public sealed record NodeHostSettings
{
    /// <summary>An IP address to bind (127.0.0.1 by default: nodes are reachable only from this machine unless asked).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>
    /// The node's port: HTTP/2 without TLS (prior knowledge), serving gRPC and /healthz, /load, /metrics. 0 picks a free
    /// port (see <see cref="RunningNode.Address"/>).
    /// </summary>
    public int Port { get; init; }

    /// <summary>
    /// An optional second port speaking HTTP/1.1 for /healthz, /load and /metrics, for tools that cannot speak
    /// cleartext HTTP/2 (Prometheus, plain curl). Kestrel refuses HTTP/2 prior knowledge on a port that also accepts
    /// HTTP/1.1 without TLS, hence two ports. 0 picks a free one; null opens none.
    /// </summary>
    public int? HttpPort { get; init; }

    /// <summary>When set, gRPC calls must carry it in <see cref="PdServe.Contracts.NodeToken.Header"/>; the decode node also sends it to prefill nodes.</summary>
    public string? NodeToken { get; init; }

    /// <summary>How long shutdown waits for in-flight requests to finish before cutting them off.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public Microsoft.Extensions.Logging.LogLevel MinimumLogLevel { get; init; } = Microsoft.Extensions.Logging.LogLevel.Information;

    /// <summary>Span export (OTLP, span lines); null or disabled: no tracing at all.</summary>
    public PdServe.Telemetry.TracingOptions? Tracing { get; init; }
}
