namespace PdServe.Gateway.Routing;

/// <summary>What the prompt-aware load-balancing policies know of one call: its prompt's tokens and prefix hashes.</summary>
public sealed class PromptRoute(IReadOnlyList<int> prompt)
{
    private ulong[]? prefixHashes;

    public IReadOnlyList<int> Prompt { get; } = prompt;

    /// <summary>Computed once, on first use: only the affinity policies read it.</summary>
    public ulong[] PrefixHashes => prefixHashes ??= PromptPrefixHash.Of(Prompt);
}
