using System.Net;
using k8s.Models;

namespace PdServe.Deploy.Tests;

/// <summary>
/// Ports, probes and Services agree with what the processes serve: the container ports are the ports the args bind,
/// the kubelet's HTTP/1.1 probes reach /healthz on a port that speaks HTTP/1.1, the Services expose those ports.
/// </summary>
[Collection(DeployedClusterCollection.Name)]
public sealed class PortAndProbeTests(DeployedCluster cluster) : IDisposable
{
    // The kubelet and Prometheus speak HTTP/1.1.
    private readonly HttpClient http11 = new() { DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

    public void Dispose() => http11.Dispose();

    [Fact]
    public void Node_container_ports_are_the_ports_their_args_bind()
    {
        foreach (string role in Labels.NodeRoles)
        {
            ContainerCommandLine line = cluster.CommandLine(role);
            Assert.Equal(line.Value<int>("--port"), Port(line.Container, "grpc"));
            Assert.Equal(line.Value<int?>("--http-port"), Port(line.Container, "metrics"));
        }
        ContainerCommandLine gateway = cluster.CommandLine("gateway");
        Assert.Equal(gateway.Value<int>("--port"), Port(gateway.Container, "http"));
        Assert.Equal("0.0.0.0", gateway.Value<string>("--host"));
    }

    [Fact]
    public async Task Node_probes_reach_healthz_over_http_1_1_on_the_port_that_speaks_it()
    {
        foreach (string role in Labels.NodeRoles)
        {
            V1Container container = cluster.CommandLine(role).Container;
            foreach (V1Probe probe in new[] { container.StartupProbe, container.ReadinessProbe, container.LivenessProbe })
            {
                Assert.Equal("/healthz", probe.HttpGet.Path);
                // The main port is HTTP/2 only (prior knowledge); an HTTP/1.1 probe there would never succeed.
                Assert.Equal("metrics", probe.HttpGet.Port.Value);
            }
            HttpResponseMessage health = await http11.GetAsync(new Uri(cluster.Node(role).HttpAddress!, "/healthz"));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal(new Version(1, 1), health.Version);
            // Kestrel answers an HTTP/1.1 request on the HTTP/2-only port with an error (or drops it): never a passing probe.
            HttpStatusCode? onMainPort = null;
            try
            {
                onMainPort = (await http11.GetAsync(new Uri(cluster.Node(role).Address, "/healthz"))).StatusCode;
            }
            catch (HttpRequestException)
            {
            }
            Assert.NotEqual(HttpStatusCode.OK, onMainPort);
        }
    }

    [Fact]
    public async Task Gateway_probes_reach_healthz_without_an_api_key()
    {
        V1Container container = cluster.CommandLine("gateway").Container;
        foreach (V1Probe probe in new[] { container.ReadinessProbe, container.LivenessProbe })
        {
            Assert.Equal("/healthz", probe.HttpGet.Path);
            Assert.Equal("http", probe.HttpGet.Port.Value);
        }
        HttpResponseMessage health = await http11.GetAsync(new Uri(cluster.GatewayAddress, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public void Services_expose_the_named_container_ports_and_the_node_services_are_headless()
    {
        foreach (string role in Labels.Roles)
        {
            V1Service service = cluster.Base.ServiceOf(role);
            V1Deployment deployment = cluster.Base.DeploymentOf(role);
            Assert.Equal(service.Spec.Selector, deployment.Spec.Selector.MatchLabels);
            foreach ((string key, string value) in service.Spec.Selector) Assert.Equal(value, deployment.Spec.Template.Metadata.Labels[key]);
            V1Container container = deployment.Spec.Template.Spec.Containers.Single();
            foreach (V1ServicePort port in service.Spec.Ports)
                Assert.Contains(container.Ports, p => p.Name == port.TargetPort.Value);
            if (role != "gateway")
            {
                // Headless: the name resolves to every ready pod, which is what the pools resolve.
                Assert.Equal("None", service.Spec.ClusterIP);
                foreach (V1ServicePort port in service.Spec.Ports) Assert.Equal(port.Port, Port(container, port.TargetPort.Value));
            }
        }
    }

    [Fact]
    public void Pods_run_as_the_images_non_root_user_without_privileges()
    {
        foreach (string role in Labels.Roles)
        {
            V1PodSpec pod = cluster.Base.DeploymentOf(role).Spec.Template.Spec;
            Assert.True(pod.SecurityContext.RunAsNonRoot);
            Assert.Equal((long?)ImageLayout.UserId, pod.SecurityContext.RunAsUser);
            V1Container container = pod.Containers.Single();
            Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
            Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
            Assert.Equal("ALL", Assert.Single(container.SecurityContext.Capabilities.Drop));
            // A read-only root needs a writable /tmp for the runtime's own files.
            Assert.Contains(container.VolumeMounts, m => m.MountPath == "/tmp");
        }
    }

    private static int Port(V1Container container, string name) =>
        container.Ports.SingleOrDefault(p => p.Name == name)?.ContainerPort ?? throw new InvalidOperationException($"{container.Name} has no port {name}");
}
