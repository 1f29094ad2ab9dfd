using k8s.Models;

namespace PdServe.Deploy.Tests;

/// <summary>
/// Reads a kustomization folder as kustomize would for what the tests check: resources and components (files or
/// folders with their own kustomization.yaml, recursively), generators, the namespace; patches and image overrides are
/// loaded and recorded, not applied (the kubectl test applies them, where kubectl is installed).
/// </summary>
public static class KustomizeRenderer
{
    public static RenderedKustomization Render(string directory)
    {
        var rendered = new RenderedKustomization();
        Read(Path.GetFullPath(directory), rendered);
        return rendered;
    }

    private static void Read(string directory, RenderedKustomization rendered)
    {
        string file = Path.Combine(directory, "kustomization.yaml");
        if (!File.Exists(file)) throw new FileNotFoundException($"{RepoLayout.Relative(directory)} has no kustomization.yaml");
        Kustomization kustomization = ManifestLoader.LoadDocument<Kustomization>(file);
        rendered.Kustomizations[directory] = kustomization;
        int first = rendered.Objects.Count;
        foreach (string entry in kustomization.Resources.Concat(kustomization.Components))
        {
            string path = Path.GetFullPath(Path.Combine(directory, entry));
            if (Directory.Exists(path)) Read(path, rendered);
            else if (File.Exists(path)) rendered.Objects.AddRange(ManifestLoader.LoadFile(path));
            else throw new FileNotFoundException($"{RepoLayout.Relative(file)} names {entry}, which does not exist");
        }
        foreach (KustomizeGenerator generator in kustomization.ConfigMapGenerator)
        {
            var files = generator.Files.ToDictionary(f => Path.GetFileName(f), f => Path.GetFullPath(Path.Combine(directory, f)));
            rendered.ConfigMapFiles[generator.Name] = files;
            var configMap = new V1ConfigMap
            {
                ApiVersion = "v1",
                Kind = "ConfigMap",
                Metadata = new V1ObjectMeta { Name = generator.Name, NamespaceProperty = generator.Namespace },
                Data = files.ToDictionary(f => f.Key, f => File.ReadAllText(f.Value)),
            };
            rendered.Objects.Add(new Manifest(file, configMap));
        }
        foreach (KustomizeGenerator generator in kustomization.SecretGenerator)
        {
            rendered.SecretGenerators[generator.Name] = (generator, directory);
            rendered.Objects.Add(new Manifest(file, new V1Secret
            {
                ApiVersion = "v1",
                Kind = "Secret",
                Metadata = new V1ObjectMeta { Name = generator.Name, NamespaceProperty = generator.Namespace },
            }));
        }
        foreach (KustomizePatch patch in kustomization.Patches)
            rendered.Patches.AddRange(ManifestLoader.LoadFile(Path.GetFullPath(Path.Combine(directory, patch.Path))));
        rendered.Images.AddRange(kustomization.Images);
        if (kustomization.Namespace is { } ns)
        {
            foreach (Manifest manifest in rendered.Objects.Skip(first))
            {
                if (manifest.Value is V1Namespace) continue;
                if (Metadata(manifest) is { } metadata) metadata.NamespaceProperty ??= ns;
            }
        }
    }

    /// <summary>The object's metadata, for any model that has one.</summary>
    public static V1ObjectMeta? Metadata(Manifest manifest) =>
        manifest.Value.GetType().GetProperty("Metadata")?.GetValue(manifest.Value) as V1ObjectMeta;
}
