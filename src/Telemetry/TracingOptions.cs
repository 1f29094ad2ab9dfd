namespace PdServe.Telemetry;

/// <summary>
/// Whether and where a process exports its spans. Off unless an OTLP endpoint is configured (the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, which the OTLP exporter also reads its protocol and headers beside), span lines
/// are asked for (<c>PDSERVE_TRACE_LINES=1</c>, set by <c>pdserve up --trace</c> for its nodes), or a sink is given.
/// </summary>
public sealed record TracingOptions
{
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string SpanLinesVariable = "PDSERVE_TRACE_LINES";

    /// <summary>OpenTelemetry's service.name: pdserve-gateway, pdserve-decode or pdserve-prefill.</summary>
    public required string ServiceName { get; init; }
    public string? OtlpEndpoint { get; init; }
    /// <summary>Write each finished span as one <see cref="SpanLine"/> on standard output.</summary>
    public bool SpanLines { get; init; }
    /// <summary>Hand each finished span to this (an in-process collector, e.g. <c>up --trace</c>'s own gateway).</summary>
    public Action<SpanLine>? SpanSink { get; init; }

    public bool Enabled => OtlpEndpoint is not null || SpanLines || SpanSink is not null;

    public static TracingOptions FromEnvironment(string serviceName) => new()
    {
        ServiceName = serviceName,
        OtlpEndpoint = Environment.GetEnvironmentVariable(OtlpEndpointVariable) is { Length: > 0 } endpoint ? endpoint : null,
        SpanLines = Environment.GetEnvironmentVariable(SpanLinesVariable) == "1",
    };
}
