using System.Text.Json.Serialization;

namespace PdServe.Gateway.Api;

/// <summary>Chat logprobs: per token its text, logprob, UTF-8 bytes and the most likely alternatives.</summary>
public sealed record ChatLogprobs([property: JsonPropertyName("content")] IReadOnlyList<ChatTokenLogprob> Content);

public sealed record ChatTokenLogprob(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("logprob")] float Logprob,
    [property: JsonPropertyName("bytes")] IReadOnlyList<int> Bytes,
    [property: JsonPropertyName("top_logprobs")] IReadOnlyList<ChatTopLogprob> TopLogprobs);

public sealed record ChatTopLogprob(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("logprob")] float Logprob,
    [property: JsonPropertyName("bytes")] IReadOnlyList<int> Bytes);
