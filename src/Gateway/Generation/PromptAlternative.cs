namespace PdServe.Gateway.Generation;

/// <summary>One of the most likely tokens at a prompt position (rank = its place in that list, from 1).</summary>
public sealed record PromptAlternative(int TokenId, string Text, float Logprob, int Rank);
