using System.Diagnostics;

namespace PdServe.Telemetry;

/// <summary>
/// The activity sources each process writes its spans to. With tracing off nothing listens, so starting a span
/// returns null and costs next to nothing.
/// </summary>
public static class Spans
{
    /// <summary>Every PdServe source's name starts with this (what a tracer provider subscribes to).</summary>
    public const string SourcePrefix = "PdServe.";

    public static readonly ActivitySource Gateway = new(SourcePrefix + "Gateway");
    public static readonly ActivitySource Decode = new(SourcePrefix + "Decode");
    public static readonly ActivitySource Prefill = new(SourcePrefix + "Prefill");
}
