namespace PdServe.Pruning.Calibration;

/// <summary>How calibration text is cut into samples and what attention statistics record.</summary>
public sealed record CalibrationOptions
{
    /// <summary>Tokens of each sample's prompt part: the positions the prefill stage computes.</summary>
    public int PromptTokens { get; init; } = 96;

    /// <summary>Tokens of each sample's continuation part: the positions the decode stage computes.</summary>
    public int ContinuationTokens { get; init; } = 32;

    /// <summary>Calibration tokens used at most (whole samples); more text is ignored.</summary>
    public long MaxTokens { get; init; } = 8192;

    /// <summary>First prompt positions a KV-pruned layer keeps (attention sinks).</summary>
    public int First { get; init; } = 4;

    /// <summary>Last prompt positions a KV-pruned layer keeps (the recent window).</summary>
    public int Last { get; init; } = 12;

    /// <summary>Samples per forward pass.</summary>
    public int BatchSize { get; init; } = 8;

    public int SampleTokens => PromptTokens + ContinuationTokens;
}
