using PdServe.Engine.Cache;
using Prometheus;

namespace PdServe.NodeHosting;

/// <summary>
/// One node's Prometheus metrics, in a registry of its own (two nodes can share a process in tests).
/// </summary>
public sealed class NodeMetrics
{
    private static readonly double[] SecondsBuckets = Histogram.ExponentialBuckets(0.0005, 2, 18);

    public NodeMetrics(string modelName)
    {
        ModelName = modelName;
        Registry = Metrics.NewCustomRegistry();
        MetricFactory factory = Metrics.WithCustomRegistry(Registry);
        Requests = factory.CreateCounter("pdserve_requests_total", "Requests by outcome", new CounterConfiguration { LabelNames = ["outcome"] });
        PromptTokens = factory.CreateCounter("pdserve_prompt_tokens_total", "Prompt tokens of accepted requests");
        GeneratedTokens = factory.CreateCounter("pdserve_generation_tokens_total", "Tokens generated");
        QueueDepth = factory.CreateGauge("pdserve_queue_depth", "Requests accepted and waiting for their prompt to be processed");
        PendingPromptTokens = factory.CreateGauge("pdserve_pending_prompt_tokens",
            "Prompt tokens accepted and not yet prefilled, queued or in progress (prefill node): the prefill pool's autoscaling signal");
        RunningSequences = factory.CreateGauge("pdserve_running_sequences", "Sequences in the decode batch (decode node)");
        KvUsage = factory.CreateGauge("pdserve_kv_cache_usage_ratio", "KV bytes in use over the node's KV budget, 0..1");
        PrefillSeconds = factory.CreateHistogram("pdserve_prefill_seconds", "Time to process one prompt", new HistogramConfiguration { Buckets = SecondsBuckets });
        DecodeStepSeconds = factory.CreateHistogram("pdserve_decode_step_seconds", "Time of one decode step of the running batch", new HistogramConfiguration { Buckets = SecondsBuckets });
        TransferBytes = factory.CreateCounter("pdserve_kv_transfer_bytes_total",
            "KV payload bytes: full = an unpruned float32 transfer of the prompt (every layer, every position), sent = what travelled, " +
            "reused = what a transfer of the whole prompt would have sent beyond that, saved by reusing a parked conversation",
            new CounterConfiguration { LabelNames = ["kind"] });
        TransferSeconds = factory.CreateHistogram("pdserve_kv_transfer_seconds", "Time from asking for a prompt's KV to holding all of it, verified",
            new HistogramConfiguration { Buckets = SecondsBuckets });
        TransferFailures = factory.CreateCounter("pdserve_kv_transfer_failures_total", "KV transfers that failed, by reason",
            new CounterConfiguration { LabelNames = ["reason"] });
        PrefixCacheQueryTokens = factory.CreateCounter("pdserve_prefix_cache_query_tokens_total",
            "Prompt tokens looked up in the prefill node's prefix cache (prompts being scored do not look up)");
        PrefixCacheHitTokens = factory.CreateCounter("pdserve_prefix_cache_hit_tokens_total",
            "Prompt tokens whose KV the prefill node took from its prefix cache instead of computing it");
        PrefixCacheBytes = factory.CreateGauge("pdserve_prefix_cache_bytes", "KV bytes the prefill node's prefix cache holds");
        PrefixCacheEvictions = factory.CreateCounter("pdserve_prefix_cache_evictions_total", "Prefix cache blocks evicted to make room");
    }

    /// <summary>The model_name label of the vLLM-compatible gauges.</summary>
    public string ModelName { get; }
    public CollectorRegistry Registry { get; }
    public Counter Requests { get; }
    public Counter PromptTokens { get; }
    public Counter GeneratedTokens { get; }
    public Gauge QueueDepth { get; }
    public Gauge PendingPromptTokens { get; }
    public Gauge RunningSequences { get; }
    public Gauge KvUsage { get; }
    public Histogram PrefillSeconds { get; }
    public Histogram DecodeStepSeconds { get; }
    public Counter TransferBytes { get; }
    public Histogram TransferSeconds { get; }
    public Counter TransferFailures { get; }
    public Counter PrefixCacheQueryTokens { get; }
    public Counter PrefixCacheHitTokens { get; }
    public Gauge PrefixCacheBytes { get; }
    public Counter PrefixCacheEvictions { get; }

    /// <summary>Publishes the node's load (vLLM's names are written by <see cref="VllmMetricsText"/>).</summary>
    public void Publish(LoadReport load)
    {
        QueueDepth.Set(load.Waiting);
        KvUsage.Set(load.KvUsage);
    }

    /// <summary>Publishes a prefix cache's counters, read at scrape time like the load.</summary>
    public void PublishPrefixCache(PrefixCacheStatistics statistics)
    {
        PrefixCacheQueryTokens.IncTo(statistics.QueryTokens);
        PrefixCacheHitTokens.IncTo(statistics.HitTokens);
        PrefixCacheBytes.Set(statistics.Bytes);
        PrefixCacheEvictions.IncTo(statistics.Evictions);
    }

    public void CountTransfer(long fullBytes, long sentBytes, long reusedBytes)
    {
        TransferBytes.WithLabels("full").Inc(fullBytes);
        TransferBytes.WithLabels("sent").Inc(sentBytes);
        TransferBytes.WithLabels("reused").Inc(reusedBytes);
    }
}
