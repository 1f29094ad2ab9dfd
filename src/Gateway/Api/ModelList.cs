using System.Text.Json.Serialization;

namespace PdServe.Gateway.Api;

/// <summary><c>GET /v1/models</c>: the one model the pools serve.</summary>
public sealed record ModelList([property: JsonPropertyName("data")] IReadOnlyList<ModelCard> Data)
{
    [JsonPropertyName("object")] public string Object => "list";
}

/// <summary>A model as OpenAI lists it, with vLLM's <c>max_model_len</c> (the context, in tokens).</summary>
public sealed record ModelCard(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy,
    [property: JsonPropertyName("max_model_len")] int MaxModelLength)
{
    [JsonPropertyName("object")] public string Object => "model";
}
