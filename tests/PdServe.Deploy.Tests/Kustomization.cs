using System.Text.Json.Serialization;

namespace PdServe.Deploy.Tests;

/// <summary>
/// A kustomization.yaml (kustomize.config.k8s.io Kustomization or Component), the fields these files use, named as
/// kustomize names them; loaded strictly, so a field the tests do not know about fails here rather than being ignored.
/// </summary>
public sealed class Kustomization
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "";
    [JsonPropertyName("namespace")] public string? Namespace { get; set; }
    [JsonPropertyName("resources")] public List<string> Resources { get; set; } = [];
    [JsonPropertyName("components")] public List<string> Components { get; set; } = [];
    [JsonPropertyName("configMapGenerator")] public List<KustomizeGenerator> ConfigMapGenerator { get; set; } = [];
    [JsonPropertyName("secretGenerator")] public List<KustomizeGenerator> SecretGenerator { get; set; } = [];
    [JsonPropertyName("images")] public List<KustomizeImage> Images { get; set; } = [];
    [JsonPropertyName("patches")] public List<KustomizePatch> Patches { get; set; } = [];
}

public sealed class KustomizeGenerator
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("namespace")] public string? Namespace { get; set; }
    [JsonPropertyName("files")] public List<string> Files { get; set; } = [];
    [JsonPropertyName("envs")] public List<string> Envs { get; set; } = [];
    [JsonPropertyName("options")] public KustomizeGeneratorOptions? Options { get; set; }
}

public sealed class KustomizeGeneratorOptions
{
    [JsonPropertyName("disableNameSuffixHash")] public bool DisableNameSuffixHash { get; set; }
}

public sealed class KustomizeImage
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("newName")] public string? NewName { get; set; }
    [JsonPropertyName("newTag")] public string? NewTag { get; set; }
}

public sealed class KustomizePatch
{
    [JsonPropertyName("path")] public string Path { get; set; } = "";
}
