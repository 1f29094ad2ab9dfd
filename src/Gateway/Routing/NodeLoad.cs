using System.Text.Json.Serialization;

namespace PdServe.Gateway.Routing;

/// <summary>What a node's <c>GET /load</c> reports: sequences decoding, requests waiting, KV cache fill (0..1).</summary>
public sealed record NodeLoad(
    [property: JsonPropertyName("running")] int Running,
    [property: JsonPropertyName("waiting")] int Waiting,
    [property: JsonPropertyName("kv_usage")] double KvUsage)
{
    [JsonIgnore] public int Outstanding => Running + Waiting;
}
