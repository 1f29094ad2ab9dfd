using System.Reflection;
using k8s;
using k8s.Models;

namespace PdServe.Deploy.Tests;

/// <summary>
/// Loads Kubernetes YAML with KubernetesClient's models and its strict deserializer: a field a model does not have
/// (a typo, a field of another API version) throws, as the API server's strict field validation would refuse it.
/// Custom resources load into the models this project defines for them (<see cref="ServiceMonitor"/>).
/// </summary>
public static class ManifestLoader
{
    private static readonly Lazy<IDictionary<string, Type>> TypeMap = new(BuildTypeMap);

    /// <summary>Every document of <paramref name="file"/>, each in its typed model.</summary>
    public static IReadOnlyList<Manifest> LoadFile(string file) =>
        LoadString(File.ReadAllText(file), file);

    public static IReadOnlyList<Manifest> LoadString(string yaml, string source)
    {
        List<object> objects;
        try
        {
            objects = KubernetesYaml.LoadAllFromString(yaml, TypeMap.Value, strict: true);
        }
        catch (Exception error) when (error is YamlDotNet.Core.YamlException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{RepoLayout.Relative(source)}: {error.Message}", error);
        }
        return objects.Select(o => new Manifest(source, o)).ToArray();
    }

    /// <summary>Loads a YAML document that is no Kubernetes object (kustomization.yaml, chart values) strictly into <typeparamref name="T"/>.</summary>
    public static T LoadDocument<T>(string file)
    {
        try
        {
            return KubernetesYaml.Deserialize<T>(File.ReadAllText(file), strict: true);
        }
        catch (YamlDotNet.Core.YamlException error)
        {
            throw new InvalidDataException($"{RepoLayout.Relative(file)}: {error.Message}", error);
        }
    }

    /// <summary>"group/version/Kind" (or "version/Kind" for the core group) → model, as KubernetesClient keys them.</summary>
    private static IDictionary<string, Type> BuildTypeMap()
    {
        var map = new Dictionary<string, Type>();
        foreach (Type type in typeof(V1Pod).Assembly.GetTypes())
        {
            if (type.GetCustomAttribute<KubernetesEntityAttribute>() is not { } entity) continue;
            string key = string.IsNullOrEmpty(entity.Group) ? $"{entity.ApiVersion}/{entity.Kind}" : $"{entity.Group}/{entity.ApiVersion}/{entity.Kind}";
            // List types share their item's attribute values in some versions; the item type is the one manifests hold.
            if (!map.ContainsKey(key) || !type.Name.EndsWith("List", StringComparison.Ordinal)) map.TryAdd(key, type);
        }
        map[$"{ServiceMonitor.ApiGroupVersion}/{ServiceMonitor.KindName}"] = typeof(ServiceMonitor);
        return map;
    }
}
