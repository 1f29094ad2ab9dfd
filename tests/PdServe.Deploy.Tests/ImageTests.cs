using k8s.Models;

namespace PdServe.Deploy.Tests;

/// <summary>
/// The Dockerfile and the offline script build the layout the manifests rely on: the app and its ELF-patched native
/// libraries from a self-contained publish, the default model where the args name it, the user the pods run as, the
/// ports the containers open; one image for every role, the role being the command.
/// </summary>
public sealed class ImageTests
{
    private static readonly string Dockerfile = File.ReadAllText(RepoLayout.Dockerfile);
    private static readonly string OfflineScript = File.ReadAllText(RepoLayout.OfflineImageScript);

    [Fact]
    public void Both_builds_publish_self_contained_and_start_the_app_as_the_entrypoint()
    {
        foreach (string build in new[] { Dockerfile, OfflineScript })
        {
            Assert.Contains("dotnet publish src/Cli/PdServe.Cli.csproj -c Release -r linux-x64 --self-contained true", build);
            Assert.Contains($"\"{ImageLayout.App}\"", build);
        }
        Assert.Contains($"ENTRYPOINT [\"{ImageLayout.App}\"]", Dockerfile);
        Assert.Contains($"--entrypoint '[\"{ImageLayout.App}\"]'", OfflineScript);
    }

    [Fact]
    public void Both_builds_put_the_default_model_where_the_manifests_and_the_gateway_configuration_name_it()
    {
        Assert.Contains($"COPY {ImageLayout.DefaultModelSource} /out{ImageLayout.DefaultModel}", Dockerfile);
        Assert.Contains("COPY --from=build /out/ /", Dockerfile);
        Assert.Contains($"cp -a \"$root/{ImageLayout.DefaultModelSource}\" \"$work/rootfs{ImageLayout.DefaultModel}\"", OfflineScript);
    }

    [Fact]
    public void Both_builds_run_as_the_non_root_user_the_pods_run_as()
    {
        Assert.Contains($"ARG UID={ImageLayout.UserId}", Dockerfile);
        Assert.Contains("USER ${UID}:${UID}", Dockerfile);
        Assert.Contains($"uid={ImageLayout.UserId}", OfflineScript);
        Assert.Contains("--user \"$uid:$uid\"", OfflineScript);
    }

    [Fact]
    public void Both_builds_declare_every_port_a_container_opens_and_every_role_uses_the_one_image()
    {
        RenderedKustomization rendered = KustomizeRenderer.Render(RepoLayout.Base);
        V1Container[] containers = rendered.All<V1Deployment>().SelectMany(d => d.Spec.Template.Spec.Containers).ToArray();
        Assert.Single(containers.Select(c => c.Image).Distinct());
        foreach (int port in containers.SelectMany(c => c.Ports).Select(p => p.ContainerPort))
        {
            Assert.Matches($@"EXPOSE( \d+)* {port}\b", Dockerfile);
            Assert.Contains($"--port {port}", OfflineScript);
        }
    }

    [Fact]
    public void The_dockerfile_loads_torch_in_the_runtime_stage_so_a_missing_native_dependency_fails_the_build()
    {
        int runtime = Dockerfile.IndexOf("AS runtime", StringComparison.Ordinal);
        Assert.True(runtime > 0);
        Assert.Contains("\"generate\"", Dockerfile[runtime..]);
        Assert.Contains("generate --prompt", OfflineScript);
    }
}
