namespace PdServe.Gateway.Generation;

/// <summary>One of the most likely alternatives to a generated token, as text, with its logprob.</summary>
public sealed record TopLogprobInfo(string Text, float Logprob);
