using System.Text.Json.Serialization;

namespace PdServe.Gateway.Api;

/// <summary>
/// The body OpenAI's completions and chat completions share, whole or as one stream chunk: <c>object</c> says which
/// (<c>text_completion</c>, <c>chat.completion</c>, <c>chat.completion.chunk</c>); <c>usage</c> is left out where null
/// (every chunk but the usage chunk).
/// </summary>
public sealed record CompletionObject<TChoice>(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<TChoice> Choices,
    [property: JsonPropertyName("usage"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage,
    [property: JsonPropertyName("object")] string Object);
