namespace PdServe.Gateway.Hosting;

/// <summary>How to start a gateway: where it listens and which configuration it reads, beyond appsettings and the environment.</summary>
public sealed record GatewayHostSettings
{
    /// <summary>Kestrel URLs; port 0 picks a free port (see <see cref="GatewayApplication.ListeningAddress"/>).</summary>
    public string Urls { get; init; } = "http://127.0.0.1:8000";
    /// <summary>JSON files (configs/*.json), reloaded when they change; later files win.</summary>
    public IReadOnlyList<string> ConfigFiles { get; init; } = [];
    /// <summary>Settings that win over every file and the environment (what a command line asked for).</summary>
    public IReadOnlyDictionary<string, string?> Overrides { get; init; } = new Dictionary<string, string?>();
    /// <summary>Minimum log level of the console logger.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;
    /// <summary>Span export (OTLP, span lines, an in-process sink); null or disabled: no tracing at all.</summary>
    public PdServe.Telemetry.TracingOptions? Tracing { get; init; }
}
