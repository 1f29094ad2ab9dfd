using PdServe.Engine.Sampling;

namespace PdServe.Engine.Generation;

/// <summary>A prompt to continue, how to sample, and how many independent samples to draw from one prefill.</summary>
public sealed record GenerationRequest(IReadOnlyList<int> PromptTokenIds, SamplingParams Sampling, int SampleCount = 1);
