using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace PdServe.Deploy.Tests;

/// <summary>
/// A pod's termination grace covers its preStop hook and the drain its process runs on SIGTERM (the shutdown timeout
/// each host is really configured with), with a few seconds to exit, and not much more.
/// </summary>
[Collection(DeployedClusterCollection.Name)]
public sealed class DrainTests(DeployedCluster cluster)
{
    private static readonly TimeSpan ExitMargin = TimeSpan.FromSeconds(10);

    [Fact]
    public void Grace_covers_prestop_and_the_drain_of_each_process()
    {
        foreach (string role in Labels.Roles)
        {
            IServiceProvider services = role == "gateway" ? cluster.Gateway.Services : cluster.Node(role).Services;
            TimeSpan drain = services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout;
            V1PodSpec pod = cluster.Base.DeploymentOf(role).Spec.Template.Spec;
            TimeSpan preStop = TimeSpan.FromSeconds(PreStop.Seconds(pod.Containers.Single()));
            TimeSpan grace = TimeSpan.FromSeconds(pod.TerminationGracePeriodSeconds ?? 30);
            Assert.True(preStop > TimeSpan.Zero, $"{role}: no preStop pause for the Service to drop the pod first");
            Assert.True(grace > preStop + drain, $"{role}: grace {grace} does not cover preStop {preStop} + drain {drain}");
            Assert.True(grace <= preStop + drain + ExitMargin, $"{role}: grace {grace} is far beyond preStop {preStop} + drain {drain}");
        }
    }

    [Fact]
    public void Rolling_updates_start_the_new_pod_before_an_old_one_drains()
    {
        foreach (V1Deployment deployment in cluster.Base.All<V1Deployment>())
        {
            Assert.Equal("RollingUpdate", deployment.Spec.Strategy.Type);
            Assert.Equal("0", deployment.Spec.Strategy.RollingUpdate.MaxUnavailable.Value);
        }
    }
}
