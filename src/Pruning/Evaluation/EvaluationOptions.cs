namespace PdServe.Pruning.Evaluation;

/// <summary>How held-out text is cut and scored.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Window length in tokens; null: the model's context (max_position_embeddings).</summary>
    public int? WindowTokens { get; init; }

    /// <summary>
    /// Prompt tokens at the start of each window, processed by the prefill stage; the rest of the window is the
    /// continuation whose tokens are scored (the first by prefill's last logits, the others by decode). Null: half
    /// the window.
    /// </summary>
    public int? PromptTokens { get; init; }

    /// <summary>Stop after this many scored tokens; null: the whole file.</summary>
    public long? MaxTokens { get; init; }

    /// <summary>Windows scored per forward pass.</summary>
    public int BatchSize { get; init; } = 4;
}
