using System.CommandLine;
using k8s.Models;

namespace PdServe.Deploy.Tests;

/// <summary>Every container's args, in the base and in the overlay's patches, parse with the pdserve CLI's own parser.</summary>
public sealed class ContainerArgumentTests
{
    [Fact]
    public void Each_role_runs_its_own_pdserve_command_and_its_args_parse_without_errors()
    {
        RenderedKustomization rendered = KustomizeRenderer.Render(RepoLayout.Base);
        foreach (string role in Labels.Roles)
        {
            V1PodSpec pod = rendered.DeploymentOf(role).Spec.Template.Spec;
            V1Container container = Assert.Single(pod.Containers);
            Assert.Null(container.Command);
            ContainerCommandLine line = ContainerCommandLine.Parse(container, pod, rendered);
            Assert.True(line.Result.Errors.Count == 0, $"{role}: {string.Join("; ", line.Result.Errors.Select(e => e.Message))}");
            Assert.Equal(role, line.Command);
        }
    }

    [Fact]
    public void The_overlay_patches_args_parse_too()
    {
        RenderedKustomization overlay = KustomizeRenderer.Render(RepoLayout.ExampleOverlay);
        foreach (V1Deployment patch in overlay.Patches.Select(p => p.Value).OfType<V1Deployment>())
        {
            V1PodSpec pod = overlay.Deployment(patch.Metadata.Name).Spec.Template.Spec;
            foreach (V1Container container in patch.Spec.Template.Spec.Containers.Where(c => c.Args is not null))
            {
                ContainerCommandLine line = ContainerCommandLine.Parse(container, pod, overlay);
                Assert.True(line.Result.Errors.Count == 0, $"{patch.Metadata.Name}: {string.Join("; ", line.Result.Errors.Select(e => e.Message))}");
                Assert.Equal(pod.Containers.Single(c => c.Name == container.Name).Name, line.Command);
            }
        }
    }

    [Fact]
    public void A_wrong_argument_is_caught_by_the_parser_as_pdserve_would_refuse_it()
    {
        RenderedKustomization rendered = KustomizeRenderer.Render(RepoLayout.Base);
        V1PodSpec pod = rendered.DeploymentOf("decode").Spec.Template.Spec;
        V1Container container = pod.Containers.Single();
        var broken = new V1Container
        {
            Name = container.Name,
            Args = container.Args.Select(a => a == "--kv-budget-mb" ? "--kv-budget" : a).ToList(),
            VolumeMounts = container.VolumeMounts,
        };
        ParseResult result = ContainerCommandLine.Parse(broken, pod, rendered).Result;
        Assert.Contains(result.Errors, e => e.Message.Contains("--kv-budget", StringComparison.Ordinal));
    }

    [Fact]
    public void Nodes_listen_on_every_address_of_the_pod_and_use_the_threads_they_have_cores_for()
    {
        RenderedKustomization rendered = KustomizeRenderer.Render(RepoLayout.Base);
        foreach (string role in Labels.NodeRoles)
        {
            V1PodSpec pod = rendered.DeploymentOf(role).Spec.Template.Spec;
            ContainerCommandLine line = ContainerCommandLine.Parse(pod.Containers.Single(), pod, rendered);
            Assert.Equal("0.0.0.0", line.Value<string>("--host"));
            // One torch thread per core the pod is guaranteed: more would share cores, fewer would leave them idle.
            Assert.Equal(CpuCores(pod.Containers.Single()), line.Value<int>("--threads"));
        }
        RenderedKustomization overlay = KustomizeRenderer.Render(RepoLayout.ExampleOverlay);
        foreach (V1Container patched in overlay.Patches.Select(p => p.Value).OfType<V1Deployment>().SelectMany(d => d.Spec.Template.Spec.Containers))
        {
            V1PodSpec pod = overlay.DeploymentOf(patched.Name).Spec.Template.Spec;
            Assert.Equal(CpuCores(patched), ContainerCommandLine.Parse(patched, pod, overlay).Value<int>("--threads"));
        }
    }

    private static int CpuCores(V1Container container)
    {
        ResourceQuantity request = container.Resources.Requests["cpu"], limit = container.Resources.Limits["cpu"];
        Assert.Equal(request.ToDecimal(), limit.ToDecimal());
        return (int)request.ToDecimal();
    }
}
