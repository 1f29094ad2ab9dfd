using System.Net;
using System.Text.RegularExpressions;
using k8s.Models;

namespace PdServe.Deploy.Tests;

/// <summary>
/// Each pool's HorizontalPodAutoscaler reads a metric that a prometheus-adapter rule exposes, from a series that the
/// pool's own node exports on /metrics, scraped by a ServiceMonitor through a port the Service has.
/// </summary>
[Collection(DeployedClusterCollection.Name)]
public sealed class AutoscalingTests(DeployedCluster cluster) : IDisposable
{
    private readonly HttpClient http11 = new() { DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
    private readonly PrometheusAdapterValues adapter = ManifestLoader.LoadDocument<PrometheusAdapterValues>(RepoLayout.AdapterValues);

    public void Dispose() => http11.Dispose();

    [Fact]
    public void Each_pool_has_its_own_autoscaler_on_its_own_signal()
    {
        var autoscalers = cluster.Base.All<V2HorizontalPodAutoscaler>().ToArray();
        Assert.Equal(2, autoscalers.Length);
        foreach (V2HorizontalPodAutoscaler hpa in autoscalers)
        {
            Assert.Equal("Deployment", hpa.Spec.ScaleTargetRef.Kind);
            Assert.Equal("apps/v1", hpa.Spec.ScaleTargetRef.ApiVersion);
            V1Deployment target = cluster.Base.Deployment(hpa.Spec.ScaleTargetRef.Name);
            Assert.Equal(hpa.Metadata.Labels[Labels.Component], target.Metadata.Labels[Labels.Component]);
            Assert.True(hpa.Spec.MinReplicas >= 1 && hpa.Spec.MaxReplicas > hpa.Spec.MinReplicas);
            Assert.All(hpa.Spec.Metrics, m => Assert.Equal("Pods", m.Type));
        }
        Assert.Equal(new[] { "pdserve_pending_prompt_tokens" }, MetricsOf("prefill"));
        Assert.Equal(new[] { "pdserve_kv_cache_usage_ratio", "pdserve_running_sequences" }, MetricsOf("decode"));
    }

    [Fact]
    public async Task Every_autoscaling_metric_comes_from_an_adapter_rule_over_a_series_the_pools_node_exports()
    {
        foreach (V2HorizontalPodAutoscaler hpa in cluster.Base.All<V2HorizontalPodAutoscaler>())
        {
            string role = hpa.Metadata.Labels[Labels.Component];
            IReadOnlySet<string> exported = PrometheusText.MetricNames(await http11.GetStringAsync(new Uri(cluster.Node(role).HttpAddress!, "/metrics")));
            foreach (V2MetricSpec metric in hpa.Spec.Metrics)
            {
                string wanted = metric.Pods.Metric.Name;
                AdapterRule[] rules = adapter.Rules.Custom.Where(r => ExposedName(r) == wanted).ToArray();
                AdapterRule rule = Assert.Single(rules);
                string series = PrometheusText.SelectedMetric(rule.SeriesQuery);
                Assert.True(exported.Contains(series), $"{role} node's /metrics has no {series} (the adapter rule for {wanted})");
            }
        }
    }

    [Fact]
    public void Adapter_rules_map_each_series_to_its_pod_and_aggregate_per_pod()
    {
        Assert.False(adapter.Rules.Default);
        foreach (AdapterRule rule in adapter.Rules.Custom)
        {
            Assert.Contains("namespace!=\"\"", rule.SeriesQuery);
            Assert.Contains("pod!=\"\"", rule.SeriesQuery);
            Assert.Equal("namespace", rule.Resources.Overrides["namespace"].Resource);
            Assert.Equal("pod", rule.Resources.Overrides["pod"].Resource);
            foreach (string placeholder in new[] { "<<.Series>>", "<<.LabelMatchers>>", "<<.GroupBy>>" }) Assert.Contains(placeholder, rule.MetricsQuery);
        }
    }

    [Fact]
    public async Task The_node_service_monitor_scrapes_both_pools_on_a_port_that_serves_metrics_over_http_1_1()
    {
        RenderedKustomization overlay = KustomizeRenderer.Render(RepoLayout.ExampleOverlay);
        ServiceMonitor monitor = overlay.All<ServiceMonitor>().Single(m => m.Metadata.Name == "pdserve-nodes");
        V1Service[] selected = overlay.All<V1Service>().Where(s => Selects(monitor.Spec.Selector, s.Metadata.Labels)).ToArray();
        Assert.Equal(Labels.NodeRoles.Order(), selected.Select(s => s.Metadata.Labels[Labels.Component]).Order());
        ServiceMonitorEndpoint endpoint = Assert.Single(monitor.Spec.Endpoints);
        foreach (V1Service service in selected)
        {
            V1ServicePort port = service.Spec.Ports.Single(p => p.Name == endpoint.Port);
            Assert.Equal(cluster.CommandLine(service.Metadata.Labels[Labels.Component]).Value<int?>("--http-port"), port.Port);
        }
        foreach (string role in Labels.NodeRoles)
        {
            HttpResponseMessage metrics = await http11.GetAsync(new Uri(cluster.Node(role).HttpAddress!, endpoint.Path));
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        }
    }

    [Fact]
    public async Task The_gateway_service_monitor_sends_the_api_key_the_gateway_requires_on_metrics()
    {
        RenderedKustomization overlay = KustomizeRenderer.Render(RepoLayout.ExampleOverlay);
        ServiceMonitor monitor = overlay.All<ServiceMonitor>().Single(m => m.Metadata.Name == "pdserve-gateway");
        V1Service service = Assert.Single(overlay.All<V1Service>(), s => Selects(monitor.Spec.Selector, s.Metadata.Labels));
        Assert.Equal("gateway", service.Metadata.Labels[Labels.Component]);
        ServiceMonitorEndpoint endpoint = Assert.Single(monitor.Spec.Endpoints);
        Assert.Contains(service.Spec.Ports, p => p.Name == endpoint.Port);
        V1SecretKeySelector credentials = endpoint.Authorization!.Credentials;
        // The name the Secret really gets: the generator's, without a hash suffix (kustomize would not rewrite this reference).
        Assert.True(overlay.SecretGenerators[credentials.Name].Generator.Options?.DisableNameSuffixHash);

        Uri metrics = new(cluster.GatewayAddress, endpoint.Path);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http11.GetAsync(metrics)).StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, metrics);
        request.Headers.Authorization = new("Bearer", DeployedCluster.SecretValue(credentials.Key));
        Assert.Equal(HttpStatusCode.OK, (await http11.SendAsync(request)).StatusCode);
    }

    [Fact]
    public void Disruption_budgets_select_exactly_their_pools_pods()
    {
        foreach (V1PodDisruptionBudget budget in cluster.Base.All<V1PodDisruptionBudget>())
        {
            V1Deployment[] selected = cluster.Base.All<V1Deployment>().Where(d => Selects(budget.Spec.Selector, d.Spec.Template.Metadata.Labels)).ToArray();
            Assert.Equal(budget.Metadata.Labels[Labels.Component], Assert.Single(selected).Metadata.Labels[Labels.Component]);
            Assert.True(budget.Spec.MaxUnavailable is not null || budget.Spec.MinAvailable is not null);
        }
    }

    private string[] MetricsOf(string role) =>
        cluster.Base.All<V2HorizontalPodAutoscaler>().Single(h => h.Metadata.Labels[Labels.Component] == role)
            .Spec.Metrics.Select(m => m.Pods.Metric.Name).Order(StringComparer.Ordinal).ToArray();

    /// <summary>The custom metric a rule serves: its series' name rewritten by name.matches → name.as, as the adapter does.</summary>
    private static string ExposedName(AdapterRule rule) =>
        Regex.Replace(PrometheusText.SelectedMetric(rule.SeriesQuery), rule.Name.Matches, rule.Name.As);

    private static bool Selects(V1LabelSelector selector, IDictionary<string, string> labels)
    {
        foreach ((string key, string value) in selector.MatchLabels ?? new Dictionary<string, string>())
            if (!labels.TryGetValue(key, out string? actual) || actual != value) return false;
        foreach (V1LabelSelectorRequirement requirement in selector.MatchExpressions ?? [])
        {
            bool has = labels.TryGetValue(requirement.Key, out string? actual);
            bool matches = requirement.OperatorProperty switch
            {
                "In" => has && requirement.Values.Contains(actual!),
                "NotIn" => !has || !requirement.Values.Contains(actual!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => throw new InvalidOperationException($"unknown selector operator {requirement.OperatorProperty}"),
            };
            if (!matches) return false;
        }
        return true;
    }
}
