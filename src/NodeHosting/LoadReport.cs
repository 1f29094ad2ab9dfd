using System.Text.Json.Serialization;

namespace PdServe.NodeHosting;

/// <summary>GET /load: what the gateway's least-outstanding-work balancer reads.</summary>
public sealed record LoadReport(
    [property: JsonPropertyName("running")] int Running,
    [property: JsonPropertyName("waiting")] int Waiting,
    [property: JsonPropertyName("kv_usage")] double KvUsage);
