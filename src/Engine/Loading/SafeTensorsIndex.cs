using System.Text.Json;
using System.Text.Json.Nodes;

namespace PdServe.Engine.Loading;

/// <summary>
/// model.safetensors.index.json of a sharded checkpoint: <c>weight_map</c> from tensor name to shard file name
/// (a plain file name in the same directory).
/// </summary>
public sealed class SafeTensorsIndex
{
    private SafeTensorsIndex(string path, IReadOnlyDictionary<string, string> weightMap)
    {
        Path = path;
        WeightMap = weightMap;
        ShardFiles = weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
    }

    public string Path { get; }

    /// <summary>Tensor name → shard file name.</summary>
    public IReadOnlyDictionary<string, string> WeightMap { get; }

    /// <summary>Distinct shard file names, sorted.</summary>
    public IReadOnlyList<string> ShardFiles { get; }

    /// <summary>Full paths of the shards (beside the index).</summary>
    public IEnumerable<string> ShardPaths =>
        ShardFiles.Select(f => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path) ?? ".", f));

    public static SafeTensorsIndex Load(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException(path, "file not found");
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new ModelLoadException(path, $"invalid JSON: {e.Message}");
        }
        if (root is not JsonObject obj || obj["weight_map"] is not JsonObject map)
            throw new ModelLoadException(path, "expected a JSON object with a 'weight_map' object");
        if (map.Count == 0) throw new ModelLoadException(path, "'weight_map' is empty");

        var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in map)
        {
            if (value is not JsonValue v || !v.TryGetValue(out string? file) || string.IsNullOrEmpty(file))
                throw new ModelLoadException(path, "weight_map value must be a shard file name", name);
            if (file != System.IO.Path.GetFileName(file) || file is "." or "..")
                throw new ModelLoadException(path, $"shard '{file}' must be a file name in the model directory, not a path", name);
            weightMap[name] = file;
        }
        return new SafeTensorsIndex(path, weightMap);
    }
}
