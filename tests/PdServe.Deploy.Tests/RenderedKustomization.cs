using k8s.Models;

namespace PdServe.Deploy.Tests;

/// <summary>
/// What a kustomization builds, as far as these tests need it: the objects of its resources and components (strictly
/// loaded), the ConfigMaps its generators make (with the files they read), the Secrets it generates (names and source
/// files only: values are never in the repository), and the patches and image overrides it would apply.
/// </summary>
public sealed class RenderedKustomization
{
    public List<Manifest> Objects { get; } = [];

    /// <summary>Generated ConfigMap name → the repository files it holds, by key.</summary>
    public Dictionary<string, Dictionary<string, string>> ConfigMapFiles { get; } = [];

    /// <summary>Generated Secret name → its generator and the folder it is resolved in.</summary>
    public Dictionary<string, (KustomizeGenerator Generator, string Directory)> SecretGenerators { get; } = [];

    public List<Manifest> Patches { get; } = [];
    public List<KustomizeImage> Images { get; } = [];

    /// <summary>Every kustomization.yaml read, by folder.</summary>
    public Dictionary<string, Kustomization> Kustomizations { get; } = [];

    public IEnumerable<T> All<T>() => Objects.Select(o => o.Value).OfType<T>();

    public V1Deployment Deployment(string name) =>
        All<V1Deployment>().SingleOrDefault(d => d.Metadata.Name == name) ?? throw new InvalidOperationException($"no Deployment {name}");

    public V1Service Service(string name) =>
        All<V1Service>().SingleOrDefault(s => s.Metadata.Name == name) ?? throw new InvalidOperationException($"no Service {name}");

    /// <summary>The Deployment of a role (its app.kubernetes.io/component label: gateway, prefill, decode).</summary>
    public V1Deployment DeploymentOf(string role) =>
        All<V1Deployment>().Single(d => d.Metadata.Labels[Labels.Component] == role);

    public V1Service ServiceOf(string role) =>
        All<V1Service>().Single(s => s.Metadata.Labels[Labels.Component] == role);
}
