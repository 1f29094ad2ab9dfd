namespace PdServe.Gateway.Tests.Fakes;

/// <summary>What a <see cref="FakeDecodeNode"/> does with the next calls; tests change it while the node runs.</summary>
public sealed record FakeDecodeBehavior
{
    /// <summary>Fail calls as <see cref="FakeFailure"/> says (a status with or without the pdserve-fault trailer, or a cut connection).</summary>
    public FakeFailure? Failure { get; init; }
    /// <summary>Fail every call with INTERNAL, without a trailer, after this many tokens.</summary>
    public int? FailAfterTokens { get; init; }
    /// <summary>Refuse every call with RESOURCE_EXHAUSTED, without a trailer (KV budget full).</summary>
    public bool Exhausted { get; init; }
    /// <summary>Pause before each token (to keep calls in flight).</summary>
    public TimeSpan TokenDelay { get; init; }
    /// <summary>Stream tokens without the prompt logprobs a request asked for (a node breaking the contract).</summary>
    public bool OmitPromptLogprobs { get; init; }
    /// <summary>Report every finished prompt as parked (a decode node with the conversation cache on).</summary>
    public bool ParksPrompts { get; init; }
}
