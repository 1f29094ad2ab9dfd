namespace PdServe.Engine.Cache;

/// <summary>A consistent snapshot of a <see cref="PrefixBlockCache"/>'s counters (read under its lock).</summary>
/// <param name="QueryTokens">Prompt tokens of every lookup.</param>
/// <param name="HitTokens">Of those, the tokens whose KV a lookup found.</param>
/// <param name="Bytes">KV bytes held now, exactly (tensor payload).</param>
/// <param name="Blocks">Blocks held now.</param>
/// <param name="Evictions">Blocks evicted to make room.</param>
/// <param name="InsertedBlocks">Blocks ever inserted.</param>
public readonly record struct PrefixCacheStatistics(long QueryTokens, long HitTokens, long Bytes, int Blocks, long Evictions, long InsertedBlocks);
