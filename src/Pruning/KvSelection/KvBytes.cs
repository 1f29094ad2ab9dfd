using PdServe.Engine.Planning;

namespace PdServe.Pruning.KvSelection;

/// <summary>
/// KV bytes on the wire by formula, for a prompt of n tokens. Every entry (one position of one layer: keys and values
/// of all KV heads) costs the same, so ratios are entry counts:
/// unpruned = N_blocks · n (every layer of the full model, every position);
/// sent = Σ over layers decode runs of kept(layer, n), where kept = min(n, F + L) in a selected layer, n elsewhere;
/// ratio = unpruned / sent. The wire dtype multiplies both sides equally when unchanged, so it is left out.
/// </summary>
public static class KvBytes
{
    public static long UnprunedEntries(int numBlocks, int promptLength) => (long)numBlocks * promptLength;

    public static long SentEntries(int numBlocks, IReadOnlySet<int> decodeSkip, KvPolicy policy, int promptLength) =>
        Enumerable.Range(0, numBlocks).Where(b => !decodeSkip.Contains(b)).Sum(b => (long)policy.KeptCount(b, promptLength));

    /// <summary>Bytes the unpruned transfer sends over bytes the plan sends (blocks decode skips are not sent at all).</summary>
    public static double Ratio(int numBlocks, IReadOnlySet<int> decodeSkip, KvPolicy policy, int promptLength) =>
        UnprunedEntries(numBlocks, promptLength) / (double)SentEntries(numBlocks, decodeSkip, policy, promptLength);

    /// <summary>The same ratio from the KV policy alone, against sending every position of the layers decode runs.</summary>
    public static double PolicyOnlyRatio(int numBlocks, IReadOnlySet<int> decodeSkip, KvPolicy policy, int promptLength) =>
        SentEntries(numBlocks, decodeSkip, KvPolicy.KeepAll, promptLength) / (double)SentEntries(numBlocks, decodeSkip, policy, promptLength);
}
