namespace PdServe.Gateway.Generation;

/// <summary>One generated token as text, its logprob and the most likely alternatives.</summary>
public sealed record TokenLogprobInfo(string Text, float Logprob, IReadOnlyList<TopLogprobInfo> Top);
