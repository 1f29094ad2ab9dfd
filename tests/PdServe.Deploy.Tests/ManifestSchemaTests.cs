using k8s.Models;

namespace PdServe.Deploy.Tests;

/// <summary>Every file under deploy/kubernetes loads strictly into its model: no unknown field, no unknown kind.</summary>
public sealed class ManifestSchemaTests
{
    public static TheoryData<string> ManifestFiles()
    {
        var data = new TheoryData<string>();
        foreach (string file in Directory.EnumerateFiles(RepoLayout.Kubernetes, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(file);
            if (name != "kustomization.yaml" && Path.GetFullPath(file) != Path.GetFullPath(RepoLayout.AdapterValues)) data.Add(RepoLayout.Relative(file));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ManifestFiles))]
    public void A_manifest_loads_strictly_into_the_official_models(string file)
    {
        IReadOnlyList<Manifest> objects = ManifestLoader.LoadFile(Path.Combine(RepoLayout.Root, file));
        Assert.NotEmpty(objects);
        foreach (Manifest manifest in objects) Assert.NotNull(KustomizeRenderer.Metadata(manifest)?.Name);
    }

    [Fact]
    public void Every_kustomization_and_the_adapter_values_load_strictly()
    {
        string[] kustomizations = Directory.GetFiles(RepoLayout.Kubernetes, "kustomization.yaml", SearchOption.AllDirectories);
        Assert.Equal(3, kustomizations.Length);
        foreach (string file in kustomizations) ManifestLoader.LoadDocument<Kustomization>(file);
        Assert.NotEmpty(ManifestLoader.LoadDocument<PrometheusAdapterValues>(RepoLayout.AdapterValues).Rules.Custom);
    }

    [Fact]
    public void A_misspelled_field_is_refused_with_its_name()
    {
        string deployment = File.ReadAllText(Path.Combine(RepoLayout.Base, "prefill", "deployment.yaml"))
            .Replace("readinessProbe:", "readynessProbe:", StringComparison.Ordinal);
        var error = Assert.Throws<InvalidDataException>(() => ManifestLoader.LoadString(deployment, Path.Combine(RepoLayout.Base, "prefill", "deployment.yaml")));
        Assert.Contains("readynessProbe", error.Message);
    }

    [Fact]
    public void A_custom_resource_with_a_field_its_crd_lacks_is_refused()
    {
        string monitor = File.ReadAllText(Path.Combine(RepoLayout.Kubernetes, "components", "monitoring", "servicemonitor-nodes.yaml"))
            .Replace("scrapeTimeout:", "scrapeTimeOut:", StringComparison.Ordinal);
        var error = Assert.Throws<InvalidDataException>(() => ManifestLoader.LoadString(monitor, RepoLayout.Kubernetes));
        Assert.Contains("scrapeTimeOut", error.Message);
    }

    [Fact]
    public void The_base_renders_the_objects_the_issue_lists_in_one_namespace()
    {
        RenderedKustomization rendered = KustomizeRenderer.Render(RepoLayout.Base);
        string ns = Assert.Single(rendered.All<V1Namespace>()).Metadata.Name;
        Assert.Equal(Labels.Roles.Order(), rendered.All<V1Deployment>().Select(d => d.Metadata.Labels[Labels.Component]).Order());
        Assert.Equal(Labels.Roles.Order(), rendered.All<V1Service>().Select(s => s.Metadata.Labels[Labels.Component]).Order());
        Assert.Equal(Labels.Roles.Order(), rendered.All<V1PodDisruptionBudget>().Select(p => p.Metadata.Labels[Labels.Component]).Order());
        Assert.Equal(Labels.NodeRoles.Order(), rendered.All<V2HorizontalPodAutoscaler>().Select(h => h.Metadata.Labels[Labels.Component]).Order());
        Assert.Single(rendered.All<V1ConfigMap>());
        foreach (Manifest manifest in rendered.Objects.Where(m => m.Value is not V1Namespace))
            Assert.True(KustomizeRenderer.Metadata(manifest)!.NamespaceProperty == ns, $"{manifest} is not in namespace {ns}");
    }

    [Fact]
    public void The_example_overlay_renders_the_base_the_monitoring_component_and_the_secret()
    {
        RenderedKustomization overlay = KustomizeRenderer.Render(RepoLayout.ExampleOverlay);
        RenderedKustomization baseOnly = KustomizeRenderer.Render(RepoLayout.Base);
        Assert.Equal(baseOnly.Objects.Count + 3, overlay.Objects.Count);
        Assert.Equal(2, overlay.All<ServiceMonitor>().Count());
        Assert.Single(overlay.All<V1Secret>());
    }

    [Fact]
    public void The_overlay_patches_and_images_name_what_the_base_has()
    {
        RenderedKustomization overlay = KustomizeRenderer.Render(RepoLayout.ExampleOverlay);
        Assert.NotEmpty(overlay.Patches);
        foreach (Manifest patch in overlay.Patches)
        {
            var deployment = Assert.IsType<V1Deployment>(patch.Value);
            V1Deployment target = overlay.Deployment(deployment.Metadata.Name);
            foreach (V1Container container in deployment.Spec.Template.Spec.Containers)
                Assert.Contains(target.Spec.Template.Spec.Containers, c => c.Name == container.Name);
        }
        string[] images = overlay.All<V1Deployment>().SelectMany(d => d.Spec.Template.Spec.Containers).Select(c => c.Image).Distinct().ToArray();
        string image = Assert.Single(images);
        KustomizeImage rewrite = Assert.Single(overlay.Images);
        Assert.Equal(image.Split(':')[0], rewrite.Name);
    }
}
