using PdServe.Decode.Admission;

namespace PdServe.Decode.Conversations;

/// <summary>
/// Parked conversations of one decode node, least recently used first out, within the node's <see cref="KvBudget"/>:
/// parking counts against the budget, and a request that needs room evicts parked conversations before it is refused.
/// A request whose prompt extends a parked conversation's tokens takes that conversation out (the longest one that
/// fits), so two requests never share one; the request parks its own prompt when it ends. Thread-safe.
/// </summary>
public sealed class ConversationCache : IDisposable
{
    private readonly LinkedList<ParkedConversation> byAge = new();
    private readonly Lock gate = new();
    private readonly KvBudget budget;
    private readonly ConversationCacheMetrics metrics;
    private bool disposed;

    public ConversationCache(KvBudget budget, ConversationCacheMetrics metrics)
    {
        this.budget = budget;
        this.metrics = metrics;
        budget.EvictOldestParked = EvictOldest;
    }

    public int Count
    {
        get
        {
            lock (gate) return byAge.Count;
        }
    }

    /// <summary>
    /// Takes out the longest parked conversation whose tokens are a strict prefix of <paramref name="prompt"/>, or null.
    /// The caller owns it from here on: it disposes it, or parks a successor.
    /// </summary>
    public ParkedConversation? TakeLongestPrefixOf(IReadOnlyList<int> prompt)
    {
        lock (gate)
        {
            LinkedListNode<ParkedConversation>? best = null;
            for (var node = byAge.First; node is not null; node = node.Next)
            {
                if (node.Value.Prefixes(prompt) && (best is null || node.Value.Tokens.Count > best.Value.Tokens.Count)) best = node;
            }
            if (best is null) return null;
            Remove(best);
            return best.Value;
        }
    }

    /// <summary>
    /// Parks <paramref name="conversation"/> as the most recent one, evicting older ones while it does not fit; disposes
    /// it, evicting nothing, when it could not fit even then (running requests hold the budget). A parked conversation
    /// with the same tokens is replaced. Returns whether it was parked.
    /// </summary>
    public bool Park(ParkedConversation conversation)
    {
        lock (gate)
        {
            if (disposed || !budget.CouldPark(conversation.Bytes))
            {
                conversation.Dispose();
                return false;
            }
            for (var node = byAge.First; node is not null; node = node.Next)
            {
                if (node.Value.Tokens.SequenceEqual(conversation.Tokens))
                {
                    Remove(node);
                    node.Value.Dispose();
                    break;
                }
            }
            while (!budget.TryPark(conversation.Bytes))
            {
                if (!EvictOldestLocked())
                {
                    conversation.Dispose();
                    return false;
                }
            }
            byAge.AddLast(conversation);
            metrics.Parked.Inc();
            Publish();
            return true;
        }
    }

    private bool EvictOldest()
    {
        lock (gate) return EvictOldestLocked();
    }

    private bool EvictOldestLocked()
    {
        if (byAge.First is not { } oldest) return false;
        Remove(oldest);
        oldest.Value.Dispose();
        metrics.Evicted.Inc();
        return true;
    }

    private void Remove(LinkedListNode<ParkedConversation> node)
    {
        byAge.Remove(node);
        budget.Unpark(node.Value.Bytes);
        Publish();
    }

    private void Publish()
    {
        metrics.ParkedConversations.Set(byAge.Count);
        metrics.ParkedBytes.Set(budget.ParkedBytes);
    }

    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            while (EvictOldestLocked()) { }
        }
    }
}
