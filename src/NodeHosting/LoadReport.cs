using System.Text.Json.Serialization;

namespace PdServe.NodeHosting;

/// <summary>
/// GET /load: what the gateway's least-outstanding-work balancer reads. <see cref="ParkedBytes"/> is the KV a decode
/// node keeps of finished conversations for their next turn (evicted first when a request needs room, so not part of
/// <see cref="KvUsage"/>).
/// </summary>
public sealed record LoadReport(
    [property: JsonPropertyName("running")] int Running,
    [property: JsonPropertyName("waiting")] int Waiting,
    [property: JsonPropertyName("kv_usage")] double KvUsage,
    [property: JsonPropertyName("parked_bytes")] long ParkedBytes = 0);
