namespace PdServe.Pruning.Healing;

/// <summary>How to heal stage models by distillation: the budget, the windows and the optimizer.</summary>
public sealed record HealingOptions
{
    /// <summary>Wall-clock budget of the fine-tuning (the evaluation around it is extra).</summary>
    public double Minutes { get; init; } = 10;
    /// <summary>Stop after this many steps even with time left (tests; 0 = no limit).</summary>
    public int MaxSteps { get; init; }
    /// <summary>Tokens of each distillation window: a prompt the prefill stage runs, then the continuation decode scores.</summary>
    public int WindowTokens { get; init; } = 512;
    public int PromptTokens { get; init; } = 256;
    public int BatchSize { get; init; } = 4;
    /// <summary>AdamW's learning rate after warm-up; it decays linearly to a tenth over the budget.</summary>
    public double LearningRate { get; init; } = 2e-4;
    public int WarmupSteps { get; init; } = 10;
    public double GradientClipNorm { get; init; } = 1.0;
    /// <summary>Share of the distillation windows held back to measure the loss before and after (never trained on).</summary>
    public double HeldShare { get; init; } = 0.1;
    public int Seed { get; init; }
    /// <summary>
    /// Leading tokens of the distillation text to pass over: when healing reads the calibration file, the part the
    /// block scores came from stays out of it.
    /// </summary>
    public long SkipLeadingTokens { get; init; }

    /// <exception cref="PruningInputException">A setting that cannot work.</exception>
    public void Validate(int contextLength)
    {
        if (!(Minutes > 0) && MaxSteps <= 0) throw new PruningInputException("--heal needs a positive number of minutes");
        if (PromptTokens < 1 || PromptTokens >= WindowTokens - 1)
            throw new PruningInputException($"healing windows of {WindowTokens} tokens need a prompt of 1..{WindowTokens - 2} tokens, got {PromptTokens}");
        if (WindowTokens > contextLength) throw new PruningInputException($"healing windows of {WindowTokens} tokens exceed the model's context of {contextLength}");
        if (BatchSize < 1) throw new PruningInputException("the healing batch must hold at least one window");
        if (!(LearningRate > 0)) throw new PruningInputException("the healing learning rate must be > 0");
        if (HeldShare is < 0 or >= 1) throw new PruningInputException("the held-back share must be in [0, 1)");
    }
}
