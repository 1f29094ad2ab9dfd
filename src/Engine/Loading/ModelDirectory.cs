namespace PdServe.Engine.Loading;

/// <summary>
/// The file layout of a Hugging Face model directory, in one place: config.json, generation_config.json, the
/// tokenizer files and the safetensors weights (single or sharded). <see cref="Open"/> checks that the directory,
/// config.json and the weight files exist and parses both configs.
/// </summary>
public sealed class ModelDirectory
{
    public const string ConfigFileName = "config.json";
    public const string GenerationConfigFileName = "generation_config.json";
    public const string TokenizerJsonFileName = "tokenizer.json";
    public const string TokenizerModelFileName = "tokenizer.model";
    public const string TokenizerConfigFileName = "tokenizer_config.json";

    private readonly Lazy<string> fingerprint;

    private ModelDirectory(string path, ModelConfig config, GenerationConfig generation,
        string? weightsIndexPath, IReadOnlyList<string> weightFiles)
    {
        Path = path;
        Config = config;
        Generation = generation;
        WeightsIndexPath = weightsIndexPath;
        WeightFiles = weightFiles;
        fingerprint = new Lazy<string>(() => ModelFingerprint.Compute(Path));
    }

    /// <summary>Full path of the directory.</summary>
    public string Path { get; }

    public string ConfigPath => Combine(ConfigFileName);
    public string GenerationConfigPath => Combine(GenerationConfigFileName);
    public string TokenizerJsonPath => Combine(TokenizerJsonFileName);
    public string TokenizerModelPath => Combine(TokenizerModelFileName);
    public string TokenizerConfigPath => Combine(TokenizerConfigFileName);
    public bool HasTokenizerJson => File.Exists(TokenizerJsonPath);
    public bool HasTokenizerModel => File.Exists(TokenizerModelPath);

    /// <summary>model.safetensors.index.json when the weights are sharded, else null.</summary>
    public string? WeightsIndexPath { get; }
    public bool IsSharded => WeightsIndexPath is not null;

    /// <summary>Full paths of the weight files: model.safetensors, or the shards in name order.</summary>
    public IReadOnlyList<string> WeightFiles { get; }

    public ModelConfig Config { get; }

    /// <summary>generation_config.json, or <see cref="GenerationConfig.Default"/> when absent.</summary>
    public GenerationConfig Generation { get; }

    /// <summary>End-of-sequence ids: generation_config.json's when it names any, else config.json's.</summary>
    public IReadOnlyList<int> EosTokenIds => Generation.EosTokenIds.Count > 0 ? Generation.EosTokenIds : Config.EosTokenIds;

    /// <summary>Beginning-of-sequence id: generation_config.json's when given, else config.json's.</summary>
    public int? BosTokenId => Generation.BosTokenId ?? Config.BosTokenId;

    /// <summary><see cref="ModelFingerprint"/> of this directory, computed on first use.</summary>
    public string Fingerprint => fingerprint.Value;

    public static ModelDirectory Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(full))
            throw new ModelLoadException(full, File.Exists(full) ? "is a file, not a model directory" : "model directory not found");
        string configPath = System.IO.Path.Combine(full, ConfigFileName);
        if (!File.Exists(configPath))
            throw new ModelLoadException(configPath, "file not found: a model directory needs a Hugging Face config.json");
        var config = ModelConfig.Load(configPath);
        var generation = GenerationConfig.Load(System.IO.Path.Combine(full, GenerationConfigFileName));

        string indexPath = System.IO.Path.Combine(full, SafeTensorsCheckpoint.IndexFileName);
        string singlePath = System.IO.Path.Combine(full, SafeTensorsCheckpoint.SingleFileName);
        if (File.Exists(indexPath))
        {
            var index = SafeTensorsIndex.Load(indexPath);
            var shards = index.ShardPaths.ToArray();
            foreach (string shard in shards)
            {
                if (!File.Exists(shard))
                {
                    string file = System.IO.Path.GetFileName(shard);
                    throw new ModelLoadException(indexPath, $"shard '{file}' named in weight_map is missing",
                        index.WeightMap.First(p => p.Value == file).Key);
                }
            }
            return new ModelDirectory(full, config, generation, indexPath, shards);
        }
        if (File.Exists(singlePath)) return new ModelDirectory(full, config, generation, null, [singlePath]);
        throw new ModelLoadException(full,
            $"no weights: neither {SafeTensorsCheckpoint.SingleFileName} nor {SafeTensorsCheckpoint.IndexFileName} is present");
    }

    /// <summary>Opens and validates the weight files. The caller disposes the checkpoint.</summary>
    public SafeTensorsCheckpoint OpenWeights() => SafeTensorsCheckpoint.Open(Path);

    private string Combine(string file) => System.IO.Path.Combine(Path, file);
}
