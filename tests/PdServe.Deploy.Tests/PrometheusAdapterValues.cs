using System.Text.Json.Serialization;

namespace PdServe.Deploy.Tests;

/// <summary>
/// The part of the prometheus-adapter Helm chart's values that deploy/kubernetes/prometheus-adapter/values.yaml sets:
/// the Prometheus to query and the custom-metrics rules (the adapter's own rule format), loaded strictly.
/// </summary>
public sealed class PrometheusAdapterValues
{
    [JsonPropertyName("prometheus")] public PrometheusEndpoint Prometheus { get; set; } = new();
    [JsonPropertyName("rules")] public AdapterRuleSet Rules { get; set; } = new();
}

public sealed class PrometheusEndpoint
{
    [JsonPropertyName("url")] public string Url { get; set; } = "";
    [JsonPropertyName("port")] public int Port { get; set; }
}

public sealed class AdapterRuleSet
{
    /// <summary>The chart's built-in CPU/memory rules; off, so only the rules below are served.</summary>
    [JsonPropertyName("default")] public bool Default { get; set; }
    [JsonPropertyName("custom")] public List<AdapterRule> Custom { get; set; } = [];
}

public sealed class AdapterRule
{
    [JsonPropertyName("seriesQuery")] public string SeriesQuery { get; set; } = "";
    [JsonPropertyName("resources")] public AdapterResources Resources { get; set; } = new();
    [JsonPropertyName("name")] public AdapterNaming Name { get; set; } = new();
    [JsonPropertyName("metricsQuery")] public string MetricsQuery { get; set; } = "";
}

public sealed class AdapterResources
{
    /// <summary>Prometheus label → the Kubernetes resource it names (namespace, pod).</summary>
    [JsonPropertyName("overrides")] public Dictionary<string, AdapterResource> Overrides { get; set; } = [];
}

public sealed class AdapterResource
{
    [JsonPropertyName("resource")] public string Resource { get; set; } = "";
}

public sealed class AdapterNaming
{
    [JsonPropertyName("matches")] public string Matches { get; set; } = "";
    [JsonPropertyName("as")] public string As { get; set; } = "";
}
