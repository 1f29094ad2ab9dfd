namespace PdServe.Gateway.Hosting;

/// <summary>What one request may ask for, and how many the gateway serves at once.</summary>
public sealed class GatewayLimits
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
    /// <summary>Requests generating at once; more wait in the queue.</summary>
    public int MaxConcurrentRequests { get; set; } = 64;
    /// <summary>Requests waiting for a slot; one more is refused with 429.</summary>
    public int MaxQueuedRequests { get; set; } = 256;
    /// <summary>Longest wait in the queue before a 429.</summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
