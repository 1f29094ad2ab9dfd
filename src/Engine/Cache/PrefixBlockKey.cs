using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;

namespace PdServe.Engine.Cache;

/// <summary>
/// The identity of one block of a prompt's leading tokens in a <see cref="PrefixBlockCache"/>: XxHash3 of the block's
/// token ids seeded with the previous block's key, the chain starting from a hash of the model and plan fingerprint.
/// Equal keys mean (up to a 64-bit collision, which the cache rules out by comparing the tokens) the same tokens after
/// the same earlier tokens under the same weights: the only case in which their KV is the same.
/// </summary>
public readonly record struct PrefixBlockKey(ulong Value)
{
    /// <summary>The seed of every chain under one fingerprint (weights, plan, dtype, block size).</summary>
    public static PrefixBlockKey Root(string fingerprint) => new(XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(fingerprint)));

    /// <summary>The key of the block of <paramref name="blockTokens"/> that follows the block keyed by this one.</summary>
    public PrefixBlockKey Next(ReadOnlySpan<int> blockTokens) =>
        new(XxHash3.HashToUInt64(MemoryMarshal.AsBytes(blockTokens), unchecked((long)Value)));

    /// <summary>The keys of the first <paramref name="count"/> blocks of <paramref name="tokens"/>, in order.</summary>
    public static PrefixBlockKey[] Chain(PrefixBlockKey root, ReadOnlySpan<int> tokens, int blockTokens, int count)
    {
        if ((long)count * blockTokens > tokens.Length) throw new ArgumentOutOfRangeException(nameof(count), "more blocks than the tokens fill");
        var keys = new PrefixBlockKey[count];
        PrefixBlockKey previous = root;
        for (int i = 0; i < count; i++) previous = keys[i] = previous.Next(tokens.Slice(i * blockTokens, blockTokens));
        return keys;
    }

    public override string ToString() => Value.ToString("x16");
}
