namespace PdServe.Gateway.Generation;

/// <summary>How many generation requests the gateway serves at once and how many wait (configuration section <c>Gateway:Limits</c>).</summary>
public sealed class AdmissionLimits
{
    /// <summary>Requests generating at once; more wait in the queue.</summary>
    public int MaxConcurrentRequests { get; set; } = 64;
    /// <summary>Requests waiting for a slot; one more is refused with 429.</summary>
    public int MaxQueuedRequests { get; set; } = 256;
    /// <summary>Longest wait in the queue before a 429.</summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
