using PdServe.Training.Trainer;

namespace PdServe.Cli.Training;

/// <summary>What <c>pdserve train</c> was asked to do.</summary>
public sealed record TrainOptions
{
    public required string CorpusPath { get; init; }
    public string? HeldoutPath { get; init; }
    public required string OutputDirectory { get; init; }
    public required TrainingOptions Training { get; init; }
    public int VocabSize { get; init; } = 4096;
    public double? Minutes { get; init; }
    public bool Resume { get; init; }
    /// <summary>A finished or stopped run's directory whose checkpoint, tokenizer and shape a new run starts from.</summary>
    public string? ContinueFrom { get; init; }
    public int Threads { get; init; }
}
