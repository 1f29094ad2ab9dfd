namespace PdServe.Engine.Sampling;

/// <summary>One sequence's result of a batched sampling step: its token, or why that sequence could not be sampled.</summary>
public readonly record struct SamplingOutcome(SampledToken? Token, Exception? Error)
{
    public static SamplingOutcome Of(SampledToken token) => new(token, null);
    public static SamplingOutcome Failed(Exception error) => new(null, error);
}
