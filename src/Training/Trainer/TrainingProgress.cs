namespace PdServe.Training.Trainer;

/// <summary>Where a training run stands after a step; <see cref="HeldoutLoss"/> is set on the steps that evaluated, at <see cref="SequenceLength"/>.</summary>
public sealed record TrainingProgress(
    long Step,
    long TotalSteps,
    double Loss,
    double LearningRate,
    int SequenceLength,
    double TokensPerSecond,
    TimeSpan Elapsed,
    TimeSpan? Remaining,
    double? HeldoutLoss,
    bool Checkpointed);
