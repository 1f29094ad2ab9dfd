using System.Net;
using System.Text.Json;
using k8s.Models;

namespace PdServe.Deploy.Tests;

/// <summary>
/// The gateway's pools are the headless Services: its configuration (the ConfigMap, a copy of configs/gateway.k8s.json)
/// names each Service's cluster DNS name and gRPC port, health-checks the path the nodes serve there over HTTP/2, and the
/// decode nodes trust exactly the prefill pool's name.
/// </summary>
[Collection(DeployedClusterCollection.Name)]
public sealed class GatewayPoolTests(DeployedCluster cluster) : IDisposable
{
    // The nodes' main port speaks HTTP/2 with prior knowledge, as the gateway's pools are configured to.
    private readonly HttpClient http2 = new() { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

    public void Dispose() => http2.Dispose();

    private string ConfigFile => Assert.Single(cluster.Base.ConfigMapFiles["pdserve-gateway"]).Value;

    [Fact]
    public void The_configmap_holds_the_kubernetes_gateway_configuration_unchanged()
    {
        Assert.Equal(File.ReadAllText(RepoLayout.KubernetesGatewayConfig), File.ReadAllText(ConfigFile));
        Assert.Equal(ImageLayout.DefaultModel, DeployedCluster.ModelDirectoryIn(ConfigFile));
    }

    [Fact]
    public async Task Each_pool_is_its_headless_services_dns_name_and_grpc_port_health_checked_where_the_node_serves_it()
    {
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(ConfigFile));
        JsonElement clusters = config.RootElement.GetProperty("ReverseProxy").GetProperty("Clusters");
        Assert.Equal(Labels.NodeRoles.Order(), clusters.EnumerateObject().Select(c => c.Name).Order());
        foreach (string role in Labels.NodeRoles)
        {
            JsonElement pool = clusters.GetProperty(role);
            Uri destination = new(Assert.Single(pool.GetProperty("Destinations").EnumerateObject()).Value.GetProperty("Address").GetString()!);
            Assert.Equal(ServiceAddress(role), destination);
            string path = pool.GetProperty("HealthCheck").GetProperty("Active").GetProperty("Path").GetString()!;
            Assert.Equal("2", pool.GetProperty("HttpRequest").GetProperty("Version").GetString());
            HttpResponseMessage health = await http2.GetAsync(new Uri(cluster.Node(role).Address, path));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }
    }

    [Fact]
    public void Decode_nodes_trust_exactly_the_prefill_pool()
    {
        ContainerCommandLine decode = cluster.CommandLine("decode");
        Assert.Equal(ServiceAddress("prefill"), new Uri(decode.Value<string>("--prefill-nodes")!));
    }

    /// <summary>http://SERVICE.NAMESPACE.svc.cluster.local:PORT of a node role's Service port named grpc.</summary>
    private Uri ServiceAddress(string role)
    {
        V1Service service = cluster.Base.ServiceOf(role);
        int port = service.Spec.Ports.Single(p => p.Name == "grpc").Port;
        return new Uri($"http://{service.Metadata.Name}.{service.Metadata.NamespaceProperty}.svc.cluster.local:{port}");
    }
}
