namespace PdServe.NodeHosting.Mapping;

/// <summary>
/// What a node accepts in a request: token ids below <see cref="VocabSize"/>, prompts shorter than
/// <see cref="ContextTokens"/>, at most <see cref="MaxSamples"/> samples.
/// </summary>
public sealed record RequestLimits(int VocabSize, int ContextTokens, int MaxSamples);
