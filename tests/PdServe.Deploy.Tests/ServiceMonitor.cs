using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace PdServe.Deploy.Tests;

/// <summary>
/// The Prometheus Operator's ServiceMonitor (monitoring.coreos.com/v1), the fields these manifests use, named as in the
/// operator's CRD. KubernetesClient ships no models for custom resources; loading strictly into this one still fails
/// on a misspelled or unexpected field.
/// </summary>
public sealed class ServiceMonitor : IKubernetesObject<V1ObjectMeta>
{
    public const string ApiGroupVersion = "monitoring.coreos.com/v1";
    public const string KindName = "ServiceMonitor";

    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "";
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public ServiceMonitorSpec Spec { get; set; } = new();
}

public sealed class ServiceMonitorSpec
{
    [JsonPropertyName("selector")] public V1LabelSelector Selector { get; set; } = new();
    [JsonPropertyName("endpoints")] public List<ServiceMonitorEndpoint> Endpoints { get; set; } = [];
}

public sealed class ServiceMonitorEndpoint
{
    /// <summary>The name of a Service port.</summary>
    [JsonPropertyName("port")] public string Port { get; set; } = "";
    [JsonPropertyName("path")] public string Path { get; set; } = "/metrics";
    [JsonPropertyName("interval")] public string? Interval { get; set; }
    [JsonPropertyName("scrapeTimeout")] public string? ScrapeTimeout { get; set; }
    [JsonPropertyName("authorization")] public ServiceMonitorAuthorization? Authorization { get; set; }
}

public sealed class ServiceMonitorAuthorization
{
    [JsonPropertyName("type")] public string Type { get; set; } = "Bearer";
    [JsonPropertyName("credentials")] public V1SecretKeySelector Credentials { get; set; } = new();
}
