namespace PdServe.Gateway.Routing;

/// <summary>
/// Hashes of a prompt's prefixes, one per length, each extending the last (64-bit FNV-1a over the token ids): the
/// gateway's way to find, in one pass, the longest prompt it saw before that this one extends. Only a routing hint —
/// a collision sends a request to a node that then finds nothing to reuse and serves it cold.
/// </summary>
public static class PromptPrefixHash
{
    private const ulong OffsetBasis = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    /// <summary>hash[i] covers tokens [0, i]: hash[^1] is the whole prompt's.</summary>
    public static ulong[] Of(IReadOnlyList<int> tokens)
    {
        var hashes = new ulong[tokens.Count];
        ulong hash = OffsetBasis;
        for (int i = 0; i < tokens.Count; i++)
        {
            uint token = unchecked((uint)tokens[i]);
            for (int b = 0; b < 4; b++)
            {
                hash ^= (token >> (8 * b)) & 0xFF;
                hash *= Prime;
            }
            hashes[i] = hash;
        }
        return hashes;
    }
}
