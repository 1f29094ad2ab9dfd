using TorchSharp;

namespace PdServe.Engine.Loading;

/// <summary>
/// The weights of a model directory: either one model.safetensors, or shards listed by
/// model.safetensors.index.json. All headers are opened and validated up front, and every tensor the index names is
/// checked to be in its shard, so problems surface at open rather than halfway through building a model.
/// </summary>
public sealed class SafeTensorsCheckpoint : IWeightSource, IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly Dictionary<string, SafeTensorsFile> byTensor;
    private readonly List<SafeTensorsFile> files;

    private SafeTensorsCheckpoint(string directory, string? indexPath, List<SafeTensorsFile> files,
        Dictionary<string, SafeTensorsFile> byTensor)
    {
        Directory = directory;
        IndexPath = indexPath;
        this.files = files;
        this.byTensor = byTensor;
        TensorNames = byTensor.Keys.Order(StringComparer.Ordinal).ToArray();
    }

    public string Directory { get; }

    /// <summary>The index file when sharded, else null.</summary>
    public string? IndexPath { get; }

    public bool IsSharded => IndexPath is not null;

    /// <summary>Paths of the weight files (one, or the shards in name order).</summary>
    public IReadOnlyList<string> FilePaths => files.Select(f => f.Path).ToArray();

    /// <summary>All tensor names, sorted.</summary>
    public IReadOnlyCollection<string> TensorNames { get; }

    /// <summary>The file errors about the checkpoint as a whole are reported against: the index, or the single file.</summary>
    private string Source => IndexPath ?? files[0].Path;

    /// <summary>
    /// Opens the weights of <paramref name="directory"/>: model.safetensors.index.json when present, else model.safetensors.
    /// </summary>
    public static SafeTensorsCheckpoint Open(string directory)
    {
        string indexPath = Path.Combine(directory, IndexFileName);
        string singlePath = Path.Combine(directory, SingleFileName);
        if (File.Exists(indexPath)) return OpenSharded(directory, indexPath);
        if (File.Exists(singlePath))
        {
            var file = SafeTensorsFile.Open(singlePath);
            return new SafeTensorsCheckpoint(directory, null, [file],
                file.TensorNames.ToDictionary(n => n, _ => file, StringComparer.Ordinal));
        }
        throw new ModelLoadException(directory, $"no weights: neither {SingleFileName} nor {IndexFileName} is present");
    }

    /// <summary>One safetensors file of any name (a healed stage's blocks beside a plan).</summary>
    public static SafeTensorsCheckpoint OpenFile(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException(path, "the weights file does not exist");
        var file = SafeTensorsFile.Open(path);
        return new SafeTensorsCheckpoint(Path.GetDirectoryName(Path.GetFullPath(path))!, null, [file],
            file.TensorNames.ToDictionary(n => n, _ => file, StringComparer.Ordinal));
    }

    private static SafeTensorsCheckpoint OpenSharded(string directory, string indexPath)
    {
        var index = SafeTensorsIndex.Load(indexPath);
        var opened = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (string shard in index.ShardFiles)
            {
                string shardPath = Path.Combine(directory, shard);
                if (!File.Exists(shardPath))
                {
                    string example = index.WeightMap.First(p => p.Value == shard).Key;
                    throw new ModelLoadException(indexPath, $"shard '{shard}' named in weight_map is missing", example);
                }
                opened[shard] = SafeTensorsFile.Open(shardPath);
            }
            var byTensor = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
            foreach (var (name, shard) in index.WeightMap)
            {
                var file = opened[shard];
                if (!file.Contains(name))
                    throw new ModelLoadException(indexPath, $"weight_map places the tensor in shard '{shard}', which does not contain it", name);
                byTensor[name] = file;
            }
            return new SafeTensorsCheckpoint(directory, indexPath, opened.Values.ToList(), byTensor);
        }
        catch
        {
            foreach (var file in opened.Values) file.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => byTensor.ContainsKey(name);

    public torch.ScalarType StoredDtype(string name) =>
        SafeTensorsDType.ToScalarType(GetInfo(name).DType)
        ?? throw new ModelLoadException(FileOf(name), $"dtype {GetInfo(name).DType} is not a weight dtype", name);

    /// <summary>The header entry of a tensor; <see cref="ModelLoadException"/> when the checkpoint lacks it.</summary>
    public SafeTensorInfo GetInfo(string name) =>
        byTensor.TryGetValue(name, out var file) ? file.GetInfo(name) : throw new ModelLoadException(Source, "missing tensor", name);

    /// <summary>The weight file that holds a tensor; <see cref="ModelLoadException"/> when the checkpoint lacks it.</summary>
    public string FileOf(string name) =>
        byTensor.TryGetValue(name, out var file) ? file.Path : throw new ModelLoadException(Source, "missing tensor", name);

    /// <inheritdoc />
    public torch.Tensor Load(string name, long[] expectedShape, torch.ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(expectedShape);
        if (!byTensor.TryGetValue(name, out var file)) throw new ModelLoadException(Source, "missing tensor", name);
        var info = file.GetInfo(name);
        if (!info.Shape.SequenceEqual(expectedShape))
            throw new ModelLoadException(file.Path,
                $"shape {SafeTensorInfo.FormatShape(info.Shape)} does not match expected {SafeTensorInfo.FormatShape(expectedShape)}",
                name);
        return file.Load(name, dtype);
    }

    /// <summary>Loads a tensor with whatever shape it has, converted to <paramref name="dtype"/>.</summary>
    public torch.Tensor Load(string name, torch.ScalarType dtype)
    {
        if (!byTensor.TryGetValue(name, out var file)) throw new ModelLoadException(Source, "missing tensor", name);
        return file.Load(name, dtype);
    }

    public void Dispose()
    {
        foreach (var file in files) file.Dispose();
    }
}
