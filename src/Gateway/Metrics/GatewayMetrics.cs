using Prometheus;

namespace PdServe.Gateway.Metrics;

/// <summary>
/// The gateway's Prometheus metrics, in a registry of its own (so two gateways in one process, as in tests, do not
/// share counters). Histogram buckets are for CPU inference: first tokens take tens of milliseconds to seconds,
/// tokens follow every few to a few hundred milliseconds.
/// </summary>
public sealed class GatewayMetrics
{
    private static readonly double[] FirstTokenBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];
    private static readonly double[] InterTokenBuckets = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.5];
    private static readonly double[] DurationBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160, 320];

    public GatewayMetrics(IPoolCensus pools)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        Requests = factory.CreateCounter("pdserve_gateway_requests_total", "Requests by route and HTTP status",
            new CounterConfiguration { LabelNames = ["route", "status"] });
        TimeToFirstToken = factory.CreateHistogram("pdserve_gateway_time_to_first_token_seconds",
            "From request arrival to the first generated text sent", new HistogramConfiguration { Buckets = FirstTokenBuckets });
        InterTokenLatency = factory.CreateHistogram("pdserve_gateway_inter_token_latency_seconds",
            "Between consecutive tokens of one sample, as received from the decode node",
            new HistogramConfiguration { Buckets = InterTokenBuckets });
        RequestDuration = factory.CreateHistogram("pdserve_gateway_request_duration_seconds",
            "From request arrival to the end of the response", new HistogramConfiguration { Buckets = DurationBuckets });
        PromptTokens = factory.CreateCounter("pdserve_gateway_prompt_tokens_total", "Prompt tokens of served requests");
        GenerationTokens = factory.CreateCounter("pdserve_gateway_generation_tokens_total", "Tokens generated for served requests");
        Inflight = factory.CreateGauge("pdserve_gateway_inflight_requests", "Generation requests admitted and not yet finished");
        Retries = factory.CreateCounter("pdserve_gateway_retries_total", "Calls retried on other nodes after a failure before the first token");
        KvTransferBytes = factory.CreateCounter("pdserve_gateway_kv_transfer_bytes_total",
            "KV bytes of prefill-to-decode transfers as reported by the decode nodes: full = unpruned size, sent = bytes sent, " +
            "reused = what a whole-prompt transfer would have sent beyond that, saved by a parked conversation",
            new CounterConfiguration { LabelNames = ["kind"] });
        ReusedPromptTokens = factory.CreateCounter("pdserve_gateway_reused_prompt_tokens_total",
            "Prompt tokens whose KV a decode node already held (a parked conversation), so it was not sent again");
        CachedPromptTokens = factory.CreateCounter("pdserve_gateway_cached_prompt_tokens_total",
            "Prompt tokens the prefill node took from its prefix cache instead of computing them");
        var healthy = factory.CreateGauge("pdserve_gateway_pool_healthy_nodes", "Available (healthy or unprobed) nodes per pool",
            new GaugeConfiguration { LabelNames = ["pool"] });
        var configured = factory.CreateGauge("pdserve_gateway_pool_nodes", "Configured nodes per pool",
            new GaugeConfiguration { LabelNames = ["pool"] });
        Registry.AddBeforeCollectCallback(() =>
        {
            foreach (var pool in pools.Count())
            {
                healthy.WithLabels(pool.Pool).Set(pool.Available);
                configured.WithLabels(pool.Pool).Set(pool.Configured);
            }
        });
    }

    public CollectorRegistry Registry { get; }
    public Counter Requests { get; }
    public Histogram TimeToFirstToken { get; }
    public Histogram InterTokenLatency { get; }
    public Histogram RequestDuration { get; }
    public Counter PromptTokens { get; }
    public Counter GenerationTokens { get; }
    public Gauge Inflight { get; }
    public Counter Retries { get; }
    public Counter KvTransferBytes { get; }
    public Counter ReusedPromptTokens { get; }
    public Counter CachedPromptTokens { get; }
}
