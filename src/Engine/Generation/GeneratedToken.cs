using PdServe.Engine.Sampling;

namespace PdServe.Engine.Generation;

public enum FinishReason
{
    /// <summary>An end-of-sequence or stop token id was generated (it is reported, then generation ends).</summary>
    Stop,
    /// <summary>max_tokens or the context length was reached.</summary>
    Length,
}

/// <summary>
/// One generated token of sample <see cref="SampleIndex"/>; <see cref="Finish"/> is set on its last token. A request
/// that asked for prompt logprobs (<see cref="SamplingParams.PromptLogprobs"/>) gets them on each sample's first token.
/// </summary>
public sealed record GeneratedToken(int SampleIndex, SampledToken Token, FinishReason? Finish,
    IReadOnlyList<PromptTokenScore>? PromptScores = null);
