using k8s.Models;
using PdServe.TestSupport;

namespace PdServe.Deploy.Tests;

/// <summary>
/// Where kubectl is installed, the real kustomize renders the base and the overlay (patches and image overrides
/// applied), and its output loads strictly and passes the same checks as the tests' own reading of the files.
/// </summary>
public sealed class KubectlRenderingTests
{
    [RequiresKubectlFact]
    public void Kustomize_renders_the_base_to_the_objects_the_tests_read()
    {
        IReadOnlyList<Manifest> rendered = ManifestLoader.LoadString(Kubectl.Kustomize(RepoLayout.Base), RepoLayout.Base);
        RenderedKustomization read = KustomizeRenderer.Render(RepoLayout.Base);
        Assert.Equal(Keys(read.Objects), Keys(rendered));
    }

    [RequiresKubectlFact]
    public void Kustomize_renders_the_overlay_whose_containers_parse_and_use_the_rewritten_image()
    {
        // A copy of deploy/kubernetes with stand-in secret values, so nothing is written into the checkout.
        using var copy = new TempDirectory("pdserve-deploy");
        CopyDirectory(RepoLayout.Kubernetes, copy.Path);
        string overlay = Path.Combine(copy.Path, Path.GetRelativePath(RepoLayout.Kubernetes, RepoLayout.ExampleOverlay));
        File.WriteAllText(Path.Combine(overlay, "secrets.env"), "node-token=stand-in\napi-key=sk-stand-in\n");
        IReadOnlyList<Manifest> rendered = ManifestLoader.LoadString(Kubectl.Kustomize(overlay), RepoLayout.ExampleOverlay);

        RenderedKustomization read = KustomizeRenderer.Render(RepoLayout.ExampleOverlay);
        Assert.Equal(Keys(read.Objects), Keys(rendered));
        KustomizeImage image = Assert.Single(read.Images);
        foreach (V1Deployment deployment in rendered.Select(m => m.Value).OfType<V1Deployment>())
        {
            V1PodSpec pod = deployment.Spec.Template.Spec;
            // The ConfigMap's rendered name carries kustomize's hash; the tests' reading knows it by the generator's name.
            foreach (V1Volume volume in pod.Volumes.Where(v => v.ConfigMap is not null))
                volume.ConfigMap.Name = WithoutHash(volume.ConfigMap.Name);
            V1Container container = pod.Containers.Single();
            Assert.Equal($"{image.NewName}:{image.NewTag}", container.Image);
            ContainerCommandLine line = ContainerCommandLine.Parse(container, pod, read);
            Assert.True(line.Result.Errors.Count == 0, $"{deployment.Metadata.Name}: {string.Join("; ", line.Result.Errors.Select(e => e.Message))}");
        }
        Assert.Equal("2", rendered.Select(m => m.Value).OfType<V1Deployment>().Single(d => d.Metadata.Name == "pdserve-decode")
            .Spec.Template.Spec.Containers.Single().Resources.Limits["cpu"].ToString());
    }

    /// <summary>kind/namespace/name of each object, generated ConfigMaps without their hash suffix.</summary>
    private static string[] Keys(IEnumerable<Manifest> objects) => objects
        .Select(o => (Kind: o.Value.GetType().Name, Metadata: KustomizeRenderer.Metadata(o)!))
        .Select(o => $"{o.Kind}/{o.Metadata.NamespaceProperty}/{(o.Kind == nameof(V1ConfigMap) ? WithoutHash(o.Metadata.Name) : o.Metadata.Name)}")
        .Order(StringComparer.Ordinal).ToArray();

    private static string WithoutHash(string name)
    {
        int dash = name.LastIndexOf('-');
        return dash > 0 && name.Length - dash == 11 ? name[..dash] : name;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (string directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(file) == "secrets.env") continue;
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}
