using static TorchSharp.torch;

namespace PdServe.Training.Trainer;

/// <summary>How to optimize: schedule, batch, AdamW settings and when to evaluate and checkpoint.</summary>
public sealed record TrainingOptions
{
    public TrainingShape Shape { get; init; } = new();
    /// <summary>Optimizer steps of the whole run; the learning-rate schedule spans them.</summary>
    public long Steps { get; init; } = 4000;
    public int BatchSize { get; init; } = 16;
    public double PeakLearningRate { get; init; } = 2e-3;
    /// <summary>The cosine schedule ends at PeakLearningRate × this.</summary>
    public double FinalLearningRateRatio { get; init; } = 0.1;
    /// <summary>0 picks min(200, steps / 10).</summary>
    public long WarmupSteps { get; init; }
    public double WeightDecay { get; init; } = 0.1;
    /// <summary>Dropout on each block's attention and MLP outputs while training (0 = none); held-out loss is measured without it.</summary>
    public double ResidualDropout { get; init; }
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double GradientClipNorm { get; init; } = 1.0;
    public int Seed { get; init; } = 1234;
    /// <summary>bf16 (float32 master weights, bf16 matrix products) measured ~2× faster than float32 here.</summary>
    public ScalarType ComputeDtype { get; init; } = ScalarType.BFloat16;
    public long EvalEvery { get; init; } = 250;
    public long CheckpointEvery { get; init; } = 250;
    /// <summary>Held-out loss is measured on at most this many windows (the same ones every time).</summary>
    public int EvalWindows { get; init; } = 48;
    /// <summary>
    /// When > 0, the first <see cref="ShortSequenceSteps"/> steps train on sequences of this length (as many more rows,
    /// so tokens per step stay the same) and the rest on the model's context: most of the run pays for short attention.
    /// </summary>
    public int ShortSequenceLength { get; init; }
    public long ShortSequenceSteps { get; init; }
    /// <summary>Consecutive corpus documents are joined, up to the context length, into one training document.</summary>
    public bool PackDocuments { get; init; }

    public int SequenceLength => Shape.ContextLength;

    /// <summary>The sequence length step <paramref name="step"/> trains on.</summary>
    public int SequenceLengthAt(long step) => ShortSequenceLength > 0 && step < ShortSequenceSteps ? ShortSequenceLength : SequenceLength;

    /// <summary>Rows per step at <paramref name="sequenceLength"/>: the batch's tokens, whatever the phase.</summary>
    public int RowsAt(int sequenceLength) => BatchSize * (SequenceLength / sequenceLength);
    public long EffectiveWarmupSteps => WarmupSteps > 0 ? WarmupSteps : Math.Max(1, Math.Min(200, Steps / 10));

    public LearningRateSchedule Schedule =>
        new(PeakLearningRate, PeakLearningRate * FinalLearningRateRatio, EffectiveWarmupSteps, Steps);

    public void Validate()
    {
        Shape.Validate();
        if (Steps < 1) throw new ArgumentException($"--steps must be >= 1, got {Steps}");
        if (BatchSize < 1) throw new ArgumentException($"--batch must be >= 1, got {BatchSize}");
        if (!(PeakLearningRate > 0) || double.IsInfinity(PeakLearningRate)) throw new ArgumentException($"--lr must be > 0, got {PeakLearningRate}");
        if (ComputeDtype is not (ScalarType.BFloat16 or ScalarType.Float32)) throw new ArgumentException($"compute dtype must be bf16 or fp32, got {ComputeDtype}");
        if (ShortSequenceLength < 0 || ShortSequenceSteps < 0) throw new ArgumentException("the short-sequence phase's length and steps must be >= 0");
        if (ShortSequenceLength > 0 && (ShortSequenceLength < 2 || ShortSequenceLength >= SequenceLength || SequenceLength % ShortSequenceLength != 0))
            throw new ArgumentException($"--short-seq {ShortSequenceLength} must be at least 2 and divide --seq {SequenceLength} into 2 or more");
        if (EvalEvery < 1 || CheckpointEvery < 1) throw new ArgumentException("evaluation and checkpoint intervals must be >= 1");
        if (ResidualDropout is < 0 or >= 1) throw new ArgumentException($"--dropout must be in [0, 1), got {ResidualDropout}");
        if (WeightDecay < 0) throw new ArgumentException($"--weight-decay must be >= 0, got {WeightDecay}");
    }
}
