namespace PdServe.Gateway.Api;

/// <summary>What one request may ask for (configuration section <c>Gateway:Limits</c>).</summary>
public sealed class RequestLimits
{
    public long MaxBodyBytes { get; set; } = 1 << 20;
    /// <summary>Longest prompt in tokens (also bounded by the model's context length).</summary>
    public int MaxPromptTokens { get; set; } = 4096;
    public int MaxTokens { get; set; } = 4096;
    /// <summary>max_tokens when the request gives none (then also cut to what the context has left).</summary>
    public int DefaultMaxTokens { get; set; } = 256;
    public int MaxN { get; set; } = 8;
    public int MaxPrompts { get; set; } = 16;
    public int MaxStopStrings { get; set; } = 4;
    public int MaxStopStringLength { get; set; } = 256;
    public int MaxMessages { get; set; } = 256;
    public int MaxTopLogprobs { get; set; } = 20;
    /// <summary>The most alternatives a node reports per token (the engine's sampler refuses more).</summary>
    public const int NodeMaxTopLogprobs = 20;
    /// <summary><see cref="MaxTopLogprobs"/>, never above what the nodes accept.</summary>
    public int TopLogprobsLimit => Math.Min(MaxTopLogprobs, NodeMaxTopLogprobs);
}
