using System.Text.Json.Serialization;

namespace PdServe.Telemetry;

/// <summary>An event inside a <see cref="SpanLine"/>, timed from the span's start.</summary>
public sealed record SpanLineEvent
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("offset_us")] public long OffsetMicros { get; init; }
    [JsonPropertyName("attributes")] public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();
}
