using System.Text.Json.Serialization;

namespace PdServe.Training.Trainer;

/// <summary>
/// The run a continued run started from: where its checkpoint was and how far it had gone, so a model card can add
/// both runs' tokens and time.
/// </summary>
public sealed record ContinuationSource
{
    [JsonPropertyName("directory")] public required string Directory { get; init; }
    [JsonPropertyName("step")] public long Step { get; init; }
    [JsonPropertyName("tokens_seen")] public long TokensSeen { get; init; }
    [JsonPropertyName("elapsed_seconds")] public double ElapsedSeconds { get; init; }
    /// <summary>When the source was itself a continuation, the run before it.</summary>
    [JsonPropertyName("continued_from")] public ContinuationSource? ContinuedFrom { get; init; }
}
