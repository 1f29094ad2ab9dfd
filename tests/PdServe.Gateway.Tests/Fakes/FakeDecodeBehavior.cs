namespace PdServe.Gateway.Tests.Fakes;

/// <summary>What a <see cref="FakeDecodeNode"/> does with the next calls; tests change it while the node runs.</summary>
public sealed record FakeDecodeBehavior
{
    /// <summary>Fail every call with UNAVAILABLE before sending any token (as a decode node whose prefill node is gone).</summary>
    public bool FailBeforeFirstToken { get; init; }
    /// <summary>Fail every call with INTERNAL after this many tokens.</summary>
    public int? FailAfterTokens { get; init; }
    /// <summary>Refuse every call with RESOURCE_EXHAUSTED (KV budget full).</summary>
    public bool Exhausted { get; init; }
    /// <summary>Pause before each token (to keep calls in flight).</summary>
    public TimeSpan TokenDelay { get; init; }
}
