namespace PdServe.Telemetry;

/// <summary>The attribute and event names PdServe's spans carry (one vocabulary across the three processes).</summary>
public static class SpanAttributes
{
    public const string RequestId = "pdserve.request_id";
    public const string PromptTokens = "pdserve.prompt_tokens";
    public const string CompletionTokens = "pdserve.completion_tokens";
    public const string Samples = "pdserve.samples";
    public const string Attempt = "pdserve.attempt";
    public const string DecodeNode = "pdserve.decode_node";
    public const string PrefillNode = "pdserve.prefill_node";
    public const string KvBytesFull = "pdserve.kv.bytes_full";
    public const string KvBytesPrunedFloat32 = "pdserve.kv.bytes_pruned_float32";
    public const string KvBytesSent = "pdserve.kv.bytes_sent";
    public const string KvBytesReused = "pdserve.kv.bytes_reused";
    public const string ReusedPromptTokens = "pdserve.reused_prompt_tokens";
    public const string QueueSeconds = "pdserve.queue_seconds";
    /// <summary>Leading prompt tokens whose KV came from the prefill node's prefix cache.</summary>
    public const string CachedPromptTokens = "pdserve.cached_prompt_tokens";
    public const string Layer = "pdserve.layer";

    /// <summary>Event: one block of the prompt finished (its KV is on its way when the layer is sent).</summary>
    public const string LayerDoneEvent = "layer done";
    /// <summary>Event: the first token of a request reached the node or the gateway.</summary>
    public const string FirstTokenEvent = "first token";
}
