using PdServe.Decode.Admission;
using PdServe.Decode;
using PdServe.Decode.Conversations;
using Prometheus;
using static TorchSharp.torch;

namespace PdServe.Nodes.Tests;

/// <summary>
/// The decode node's parked conversations: the longest strict prefix is taken out, least recently parked ones leave
/// first, parking counts against the KV budget, and a reservation that needs room evicts parked KV before it is refused.
/// </summary>
public sealed class ConversationCacheTests
{
    /// <summary>One block holding every one of the tokens' positions, 1 KV head × 4 dims: 32 bytes per position.</summary>
    private static ParkedConversation Conversation(params int[] tokens)
    {
        var positions = Enumerable.Range(0, tokens.Length).ToArray();
        var block = new ParkedBlock(positions, zeros(1, tokens.Length, 4), ones(1, tokens.Length, 4));
        return new ParkedConversation(tokens, new Dictionary<int, ParkedBlock> { [0] = block });
    }

    private static (KvBudget Budget, ConversationCache Cache, ConversationCacheMetrics Metrics) Cache(long budgetBytes)
    {
        var budget = new KvBudget(budgetBytes);
        var metrics = new ConversationCacheMetrics(Metrics.NewCustomRegistry());
        return (budget, new ConversationCache(budget, metrics), metrics);
    }

    [Fact]
    public void The_longest_strict_prefix_is_taken_out_and_nothing_else_matches()
    {
        var (budget, cache, _) = Cache(1 << 20);
        using var _ = cache;
        Assert.True(cache.Park(Conversation(1, 2)));
        Assert.True(cache.Park(Conversation(1, 2, 3, 4)));
        Assert.True(cache.Park(Conversation(9, 9, 9)));
        Assert.Equal((2 + 4 + 3) * 32, budget.ParkedBytes);

        // Equal tokens are no strict prefix: a parked prompt serves only a longer one.
        Assert.Null(cache.TakeLongestPrefixOf([9, 9, 9]));
        Assert.Null(cache.TakeLongestPrefixOf([1, 3, 3, 4, 5]));
        Assert.Equal(3, cache.Count);
        using ParkedConversation? taken = cache.TakeLongestPrefixOf([1, 2, 3, 4, 5, 6]);
        Assert.Equal(new[] { 1, 2, 3, 4 }, taken!.Tokens);
        Assert.Equal(2, cache.Count);
        Assert.Equal((2 + 3) * 32, budget.ParkedBytes);
        // Taken out: a second request extending it finds the shorter one only.
        using ParkedConversation? second = cache.TakeLongestPrefixOf([1, 2, 3, 4, 5, 6]);
        Assert.Equal(new[] { 1, 2 }, second!.Tokens);
    }

    [Fact]
    public void Parking_the_same_tokens_again_replaces_the_older_entry()
    {
        var (budget, cache, _) = Cache(1 << 20);
        using var _ = cache;
        Assert.True(cache.Park(Conversation(5, 6, 7)));
        Assert.True(cache.Park(Conversation(5, 6, 7)));
        Assert.Equal(1, cache.Count);
        Assert.Equal(3 * 32, budget.ParkedBytes);
    }

    [Fact]
    public void Parking_beyond_the_budget_evicts_the_least_recently_parked_first()
    {
        // Room for 10 positions of 32 bytes.
        var (budget, cache, metrics) = Cache(10 * 32);
        using var _ = cache;
        Assert.True(cache.Park(Conversation(1, 1, 1, 1)));
        Assert.True(cache.Park(Conversation(2, 2, 2, 2)));
        Assert.True(cache.Park(Conversation(3, 3, 3, 3)));
        Assert.Equal(2, cache.Count);
        Assert.Equal(1, metrics.Evicted.Value);
        Assert.Null(cache.TakeLongestPrefixOf([1, 1, 1, 1, 0]));
        using ParkedConversation? second = cache.TakeLongestPrefixOf([2, 2, 2, 2, 0]);
        Assert.NotNull(second);
        // Larger than the whole budget: refused, and nothing else is evicted for it.
        Assert.False(cache.Park(Conversation(Enumerable.Repeat(4, 11).ToArray())));
        Assert.Equal(1, cache.Count);
        Assert.Equal(4 * 32, budget.ParkedBytes);
    }

    [Fact]
    public void A_reservation_evicts_parked_conversations_but_parking_never_evicts_a_reservation()
    {
        var (budget, cache, metrics) = Cache(10 * 32);
        using var _ = cache;
        Assert.True(cache.Park(Conversation(1, 1, 1)));
        Assert.True(cache.Park(Conversation(2, 2, 2)));
        // 6 of 10 positions parked: a request needing 7 evicts the oldest only, one needing 11 is refused outright.
        Assert.Null(budget.TryReserve(11 * 32));
        Assert.Equal(2, cache.Count);
        using (KvBudget.Reservation? reservation = budget.TryReserve(7 * 32))
        {
            Assert.NotNull(reservation);
            Assert.Equal(1, cache.Count);
            Assert.Equal(1, metrics.Evicted.Value);
            Assert.Equal(3 * 32, budget.ParkedBytes);
            // With 7 reserved and 3 parked the budget is full: a new conversation evicts the parked one, not the request.
            Assert.True(cache.Park(Conversation(3, 3, 3)));
            Assert.Equal(3 * 32, budget.ParkedBytes);
            Assert.False(cache.Park(Conversation(4, 4, 4, 4)));
            Assert.Equal(7 * 32, budget.ReservedBytes);
            Assert.Equal(0.7, budget.Usage, 6);
        }
        Assert.Equal(0, budget.ReservedBytes);
    }

    [Fact]
    public void Disposing_the_cache_frees_every_parked_byte_and_refuses_new_ones()
    {
        var (budget, cache, _) = Cache(1 << 20);
        ParkedConversation first = Conversation(1, 2, 3);
        Assert.True(cache.Park(first));
        cache.Dispose();
        Assert.Equal(0, budget.ParkedBytes);
        Assert.Equal(0, cache.Count);
        Assert.False(cache.Park(Conversation(4, 5)));
        Assert.Equal(0, budget.ParkedBytes);
    }
}
