namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// One request of a benchmark dataset: the prompt as token ids (exact length, no re-tokenization) or as text, and the
/// tokens to generate.
/// </summary>
public sealed record BenchPrompt
{
    public IReadOnlyList<int>? TokenIds { get; init; }
    public string? Text { get; init; }
    public required int MaxTokens { get; init; }

    /// <summary>The <c>prompt</c> field of a completions request.</summary>
    public object PromptField => (object?)TokenIds ?? Text ?? throw new InvalidOperationException("a prompt needs token ids or text");
}
