using Prometheus;

namespace PdServe.Decode.Conversations;

/// <summary>The conversation cache's counters, registered on the node's registry beside every node's metrics.</summary>
public sealed class ConversationCacheMetrics
{
    public ConversationCacheMetrics(CollectorRegistry registry)
    {
        MetricFactory factory = Metrics.WithCustomRegistry(registry);
        QueryTokens = factory.CreateCounter("pdserve_conversation_cache_query_tokens_total",
            "Prompt tokens of pulled requests that looked for a parked conversation (decode node)");
        HitTokens = factory.CreateCounter("pdserve_conversation_cache_hit_tokens_total",
            "Prompt tokens whose KV a parked conversation supplied, so the prefill node did not send it (decode node)");
        Parked = factory.CreateCounter("pdserve_conversation_cache_parked_total", "Conversations parked after their request ended");
        Evicted = factory.CreateCounter("pdserve_conversation_cache_evictions_total",
            "Parked conversations evicted to make room (for a request, or for a newer conversation)");
        ParkedConversations = factory.CreateGauge("pdserve_conversation_cache_conversations", "Conversations parked now");
        ParkedBytes = factory.CreateGauge("pdserve_conversation_cache_bytes", "KV bytes of the parked conversations (part of the KV budget)");
    }

    public Counter QueryTokens { get; }
    public Counter HitTokens { get; }
    public Counter Parked { get; }
    public Counter Evicted { get; }
    public Gauge ParkedConversations { get; }
    public Gauge ParkedBytes { get; }
}
