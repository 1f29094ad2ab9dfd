using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PdServe.Telemetry;

/// <summary>
/// A finished span as one line of text (<c>pdserve-span {json}</c>): what a process prints for <c>pdserve up
/// --trace</c>, which reads its nodes' output and assembles each request's timeline across the three processes.
/// </summary>
public sealed record SpanLine
{
    public const string Prefix = "pdserve-span ";

    [JsonPropertyName("trace")] public required string TraceId { get; init; }
    [JsonPropertyName("span")] public required string SpanId { get; init; }
    [JsonPropertyName("parent")] public string? ParentSpanId { get; init; }
    [JsonPropertyName("service")] public required string Service { get; init; }
    [JsonPropertyName("name")] public required string Name { get; init; }
    /// <summary>server, client, internal, producer or consumer.</summary>
    [JsonPropertyName("kind")] public string Kind { get; init; } = "internal";
    [JsonPropertyName("start_us")] public long StartUnixMicros { get; init; }
    [JsonPropertyName("duration_us")] public long DurationMicros { get; init; }
    [JsonPropertyName("error")] public bool Error { get; init; }
    [JsonPropertyName("attributes")] public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();
    [JsonPropertyName("events")] public IReadOnlyList<SpanLineEvent> Events { get; init; } = [];

    public static SpanLine From(Activity activity, string service)
    {
        long start = ToUnixMicros(activity.StartTimeUtc);
        return new SpanLine
        {
            TraceId = activity.TraceId.ToHexString(),
            SpanId = activity.SpanId.ToHexString(),
            ParentSpanId = activity.ParentSpanId == default ? null : activity.ParentSpanId.ToHexString(),
            Service = service,
            Name = activity.DisplayName,
            Kind = activity.Kind.ToString().ToLowerInvariant(),
            StartUnixMicros = start,
            DurationMicros = (long)(activity.Duration.TotalMicroseconds),
            Error = activity.Status == ActivityStatusCode.Error,
            Attributes = Strings(activity.TagObjects),
            Events = activity.Events.Select(e => new SpanLineEvent
            {
                Name = e.Name,
                OffsetMicros = ToUnixMicros(e.Timestamp.UtcDateTime) - start,
                Attributes = Strings(e.Tags),
            }).ToList(),
        };
    }

    public string Format() => Prefix + JsonSerializer.Serialize(this);

    /// <summary>A line another process printed; false for every other line (its logs).</summary>
    public static bool TryParse(string line, out SpanLine span)
    {
        span = null!;
        if (!line.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        try
        {
            span = JsonSerializer.Deserialize<SpanLine>(line.AsSpan(Prefix.Length))!;
            return span is not null;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static Dictionary<string, string> Strings(IEnumerable<KeyValuePair<string, object?>> tags) =>
        tags.Where(t => t.Value is not null).ToDictionary(t => t.Key, t => Convert.ToString(t.Value, CultureInfo.InvariantCulture) ?? "");

    private static long ToUnixMicros(DateTime utc) => (utc.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;
}
