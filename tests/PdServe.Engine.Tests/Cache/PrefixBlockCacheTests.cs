using PdServe.Engine.Cache;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Cache;

/// <summary>
/// The cache on its own, with synthetic KV (no model): each position's keys hold its token id and values its
/// position, per run block, so a lookup can be checked to return exactly the rows of the prompt that inserted them.
/// </summary>
public sealed class PrefixBlockCacheTests
{
    private const int Block = 128;
    private const int KvHeads = 2;
    private const int HeadDim = 4;
    private static readonly int[] RunBlocks = [0, 2];
    // 2 run blocks × (keys, values) × 2 KV heads × 128 tokens × 4 dims × 4 bytes.
    private const long BlockBytes = 2 * 2 * KvHeads * Block * HeadDim * 4;

    private static PrefixBlockCache NewCache(long budget, string fingerprint = "model/plan/Float32") =>
        new(fingerprint, RunBlocks, KvHeads, HeadDim, budget, Block);

    /// <summary>Tokens of <paramref name="blocks"/> distinct blocks (block i's ids start at 1000·seed + 10·i) and one more token.</summary>
    private static int[] Prompt(int seed, int blocks, int extra = 1) =>
        [.. Enumerable.Range(0, blocks * Block + extra).Select(p => 1000 * seed + 10 * (p / Block) + p % 7)];

    /// <summary>What a prefill of <paramref name="tokens"/> would hand out for <paramref name="block"/>: keys = token id + block, values = position.</summary>
    private static (Tensor Keys, Tensor Values) FakeKv(int[] tokens, int block)
    {
        Tensor ids = tensor(tokens.Select(t => (float)(t + block)).ToArray());
        Tensor keys = ids.view(1, -1, 1).expand(KvHeads, -1, HeadDim).contiguous();
        Tensor values = arange(tokens.Length, ScalarType.Float32).view(1, -1, 1).expand(KvHeads, -1, HeadDim).contiguous();
        return (keys, values);
    }

    /// <summary>Looks <paramref name="tokens"/> up, then inserts its new blocks as a prefill would; returns the tokens the lookup found.</summary>
    private static int Serve(PrefixBlockCache cache, int[] tokens, bool check = true)
    {
        using PrefixHit hit = cache.Lookup(tokens);
        if (check) AssertHolds(hit, tokens);
        using PrefixInsertion insertion = cache.BeginInsert(tokens, hit.Tokens);
        using (var scope = NewDisposeScope())
        {
            foreach (int block in RunBlocks)
            {
                (Tensor keys, Tensor values) = FakeKv(tokens, block);
                insertion.Capture(block, keys, values);
            }
        }
        insertion.Commit();
        return hit.Tokens;
    }

    /// <summary>The hit's segments are exactly the rows <paramref name="tokens"/>' prefill produced.</summary>
    private static void AssertHolds(PrefixHit hit, int[] tokens)
    {
        if (hit.Tokens == 0) return;
        using var scope = NewDisposeScope();
        foreach (int block in RunBlocks)
        {
            IReadOnlyList<KvSegment> segments = hit.Segments(block);
            Assert.Equal(hit.Blocks, segments.Count);
            (Tensor keys, Tensor values) = FakeKv(tokens[..hit.Tokens], block);
            Tensor cachedKeys = cat(segments.Select(s => s.Keys).ToArray(), 2)[0];
            Tensor cachedValues = cat(segments.Select(s => s.Values).ToArray(), 2)[0];
            Assert.True(cachedKeys.eq(keys).all().item<bool>(), "cached keys are another prompt's");
            Assert.True(cachedValues.eq(values).all().item<bool>(), "cached values are another prompt's");
        }
    }

    [Fact]
    public void Only_full_blocks_before_the_last_token_are_cached_and_found()
    {
        using PrefixBlockCache cache = NewCache(1L << 20);
        Assert.Equal(BlockBytes, cache.BytesPerBlock);
        int[] prompt = Prompt(1, blocks: 2, extra: 0); // 256 tokens: block 1 holds the last token
        Assert.Equal(0, Serve(cache, prompt));
        Assert.Equal(1, cache.Statistics.Blocks);
        Assert.Equal(128, Serve(cache, prompt));
        // One more token makes block 1 reusable; it is inserted after the hit on block 0.
        int[] longer = [.. prompt, 5];
        Assert.Equal(128, Serve(cache, longer));
        Assert.Equal(256, Serve(cache, longer));
        Assert.Equal(0, Serve(cache, prompt[..128]));
        PrefixCacheStatistics statistics = cache.Statistics;
        Assert.Equal(2, statistics.Blocks);
        Assert.Equal(2 * BlockBytes, statistics.Bytes);
        Assert.Equal(2, statistics.InsertedBlocks);
        Assert.Equal(256 + 256 + 257 + 257 + 128, statistics.QueryTokens);
        Assert.Equal(128 + 128 + 256, statistics.HitTokens);
    }

    [Fact]
    public void The_same_block_after_another_prefix_is_a_miss()
    {
        using PrefixBlockCache cache = NewCache(1L << 20);
        int[] a = Prompt(1, blocks: 2);
        int[] b = [.. Prompt(2, blocks: 1, extra: 0), .. a[Block..]];
        Serve(cache, a);
        Assert.Equal(0, Serve(cache, b));
        // b's own blocks went in beside a's: both chains are found whole.
        Assert.Equal(256, Serve(cache, a));
        Assert.Equal(256, Serve(cache, b));
        Assert.Equal(4, cache.Statistics.Blocks);
    }

    [Fact]
    public void Another_fingerprint_finds_nothing_of_the_same_tokens()
    {
        int[] prompt = Prompt(1, blocks: 1);
        using PrefixBlockCache first = NewCache(1L << 20, "model/plan-1/Float32");
        Serve(first, prompt);
        Assert.Equal(128, Serve(first, prompt));
        // Same tokens, same cache class, other fingerprint: the chain's root differs, so every key does.
        PrefixBlockKey[] keysOne = PrefixBlockKey.Chain(PrefixBlockKey.Root("model/plan-1/Float32\nblock_tokens=128"), prompt, Block, 1);
        PrefixBlockKey[] keysTwo = PrefixBlockKey.Chain(PrefixBlockKey.Root("model/plan-2/Float32\nblock_tokens=128"), prompt, Block, 1);
        Assert.NotEqual(keysOne[0], keysTwo[0]);
    }

    [Fact]
    public void Eviction_takes_the_least_recently_used_block_and_leaves_before_their_parents()
    {
        using PrefixBlockCache cache = NewCache(3 * BlockBytes);
        int[] a = Prompt(1, 1), b = Prompt(2, 1), c = Prompt(3, 1), d = Prompt(4, 1);
        Serve(cache, a);
        Serve(cache, b);
        Serve(cache, c);
        Assert.Equal(128, Serve(cache, a)); // a is now the most recent, b the least
        Serve(cache, d);                    // full: evicts b
        PrefixCacheStatistics statistics = cache.Statistics;
        Assert.Equal(1, statistics.Evictions);
        Assert.Equal(3 * BlockBytes, statistics.Bytes);
        Assert.Equal(128, Serve(cache, c)); // order now: c, d, a (most recent first)
        Assert.Equal(128, Serve(cache, d)); // d, c, a
        Assert.Equal(128, Serve(cache, a)); // a, d, c
        Assert.Equal(0, Serve(cache, b));   // a miss that inserts b: evicts c
        Assert.Equal(2, cache.Statistics.Evictions);
        Assert.Equal(0, Serve(cache, c));   // evicts d
        Assert.Equal(3, cache.Statistics.Evictions);

        // A chain touched from its last block back: its first block stays more recent, so its leaf goes first.
        using PrefixBlockCache chains = NewCache(2 * BlockBytes);
        int[] two = Prompt(5, 2);
        Serve(chains, two);                  // blocks two/0 (most recent) and two/1
        Serve(chains, Prompt(6, 1));         // evicts two/1, the leaf, not two/0
        Assert.Equal(128, Serve(chains, two, check: true));
        Assert.Equal(2 * BlockBytes, chains.Statistics.Bytes);
    }

    [Fact]
    public void A_block_being_read_is_never_evicted_and_an_insertion_that_cannot_make_room_keeps_nothing()
    {
        using PrefixBlockCache cache = NewCache(BlockBytes);
        int[] a = Prompt(1, 1), b = Prompt(2, 1);
        Serve(cache, a);
        using (PrefixHit reading = cache.Lookup(a))
        {
            Assert.Equal(128, reading.Tokens);
            Assert.Equal(0, Serve(cache, b));
            Assert.Equal(0, cache.Statistics.Evictions);
            Assert.Equal(1, cache.Statistics.InsertedBlocks);
            AssertHolds(reading, a);
        }
        // Unpinned, a goes to make room for b.
        Assert.Equal(0, Serve(cache, b));
        Assert.Equal(1, cache.Statistics.Evictions);
        Assert.Equal(128, Serve(cache, b));
        Assert.Equal(BlockBytes, cache.Statistics.Bytes);
    }

    [Fact]
    public void A_budget_below_one_block_turns_the_cache_off()
    {
        foreach (long budget in new[] { 0L, BlockBytes - 1 })
        {
            using PrefixBlockCache cache = NewCache(budget);
            Assert.False(cache.Enabled);
            int[] prompt = Prompt(1, 2);
            Assert.Equal(0, Serve(cache, prompt));
            Assert.Equal(0, Serve(cache, prompt));
            using PrefixInsertion insertion = cache.BeginInsert(prompt, 0);
            Assert.Equal(0, insertion.BlockCount);
            Assert.Equal(new PrefixCacheStatistics(2 * prompt.Length, 0, 0, 0, 0, 0), cache.Statistics);
        }
    }

    [Fact]
    public void Lookups_and_insertions_from_many_threads_keep_exact_totals()
    {
        // 6 prompts of 3 blocks, sharing their first block in pairs: 6 · 2 + 3 = 15 distinct blocks.
        int[][] prompts = Enumerable.Range(0, 6).Select(i => (int[])[.. Prompt(10 + i / 2, 1, extra: 0), .. Prompt(20 + i, 3)[Block..]]).ToArray();
        using PrefixBlockCache roomy = NewCache(15 * BlockBytes);
        Parallel.For(0, 60, new ParallelOptions { MaxDegreeOfParallelism = 6 }, i => Serve(roomy, prompts[i % prompts.Length]));
        PrefixCacheStatistics filled = roomy.Statistics;
        Assert.Equal(15, filled.Blocks);
        Assert.Equal(15, filled.InsertedBlocks);
        Assert.Equal(15 * BlockBytes, filled.Bytes);
        Assert.Equal(0, filled.Evictions);
        Assert.Equal(60L * prompts[0].Length, filled.QueryTokens);
        // Everything is in now: each further lookup finds its whole chain.
        Parallel.For(0, 60, new ParallelOptions { MaxDegreeOfParallelism = 6 }, i => Assert.Equal(3 * Block, Serve(roomy, prompts[i % prompts.Length])));
        Assert.Equal(filled.HitTokens + 60L * 3 * Block, roomy.Statistics.HitTokens);

        // Too small for everything: blocks come and go while others are read; every hit still holds its own prompt's
        // rows (checked inside Serve) and the byte count stays exact and within the budget.
        using PrefixBlockCache tight = NewCache(5 * BlockBytes);
        Parallel.For(0, 120, new ParallelOptions { MaxDegreeOfParallelism = 6 }, i => Serve(tight, prompts[(i * 7) % prompts.Length]));
        PrefixCacheStatistics churned = tight.Statistics;
        Assert.Equal(churned.Blocks * BlockBytes, churned.Bytes);
        Assert.InRange(churned.Bytes, BlockBytes, 5 * BlockBytes);
        Assert.Equal(churned.InsertedBlocks - churned.Evictions, churned.Blocks);
    }

    [Fact]
    public void Dispose_frees_every_cached_tensor_and_later_calls_fail()
    {
        var cache = NewCache(1L << 20);
        int[] prompt = Prompt(1, 2);
        Serve(cache, prompt);
        Tensor held;
        using (PrefixHit hit = cache.Lookup(prompt)) held = hit.Segments(0)[1].Keys;
        Assert.False(held.IsInvalid);
        cache.Dispose();
        Assert.True(held.IsInvalid);
        Assert.Equal(0, cache.Statistics.Bytes);
        Assert.Throws<ObjectDisposedException>(() => cache.Lookup(prompt));
        cache.Dispose();
    }

    [Fact]
    public void An_insertion_that_is_not_committed_frees_its_copies_and_a_partial_one_cannot_commit()
    {
        using PrefixBlockCache cache = NewCache(1L << 20);
        int[] prompt = Prompt(1, 1);
        using (PrefixInsertion insertion = cache.BeginInsert(prompt, 0))
        {
            using var scope = NewDisposeScope();
            (Tensor keys, Tensor values) = FakeKv(prompt, 0);
            insertion.Capture(0, keys, values);
            Assert.False(insertion.IsComplete);
            Assert.Throws<InvalidOperationException>(() => insertion.Commit());
        }
        Assert.Equal(new PrefixCacheStatistics(0, 0, 0, 0, 0, 0), cache.Statistics);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrefixBlockCache("m", RunBlocks, KvHeads, HeadDim, 1 << 20, blockTokens: 0));
    }
}
