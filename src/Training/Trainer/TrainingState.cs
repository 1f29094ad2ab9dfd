using System.Text.Json;
using System.Text.Json.Serialization;

namespace PdServe.Training.Trainer;

/// <summary>The trainer's bookkeeping saved with each checkpoint (state.json), so --resume continues exactly.</summary>
public sealed record TrainingState
{
    [JsonPropertyName("step")] public long Step { get; init; }
    [JsonPropertyName("tokens_seen")] public long TokensSeen { get; init; }
    [JsonPropertyName("elapsed_seconds")] public double ElapsedSeconds { get; init; }
    [JsonPropertyName("last_loss")] public double? LastLoss { get; init; }
    [JsonPropertyName("heldout_loss")] public double? HeldoutLoss { get; init; }
    [JsonPropertyName("options")] public required TrainingOptions Options { get; init; }
    /// <summary>Set when this run's initial weights were another run's final checkpoint (<c>--continue-from</c>).</summary>
    [JsonPropertyName("continued_from")] public ContinuationSource? ContinuedFrom { get; init; }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");

    public static TrainingState Load(string path) =>
        JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(path), Json)
        ?? throw new InvalidDataException($"'{path}' is empty");
}
