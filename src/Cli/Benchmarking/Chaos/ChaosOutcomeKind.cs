using System.Text.Json.Serialization;

namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>How a chaos request ended, from the client's view (by name in the JSON).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ChaosOutcomeKind>))]
public enum ChaosOutcomeKind
{
    /// <summary>A complete answer: every choice finished, usage, <c>data: [DONE]</c>.</summary>
    Completed,
    /// <summary>The client cancelled the stream on purpose.</summary>
    Cancelled,
    /// <summary>A clean error: an HTTP error with OpenAI error JSON, or an SSE error event followed by <c>[DONE]</c>.</summary>
    Failed,
    /// <summary>Neither: a stream that ended without <c>[DONE]</c>, a broken connection, a timeout, an unreadable answer.</summary>
    Lost,
}
