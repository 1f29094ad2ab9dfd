using System.Text.Json.Nodes;
using PdServe.Engine.Loading;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Loading;

public sealed class SafeTensorsCheckpointTests
{
    private static byte[] Bytes(Tensor t) => t.bytes.ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ShardedCheckpointLoadsTheSameTensorsAsASingleFile(int shards)
    {
        var config = TinyCheckpoint.LlamaGqa();
        using var single = new TempDirectory();
        using var sharded = new TempDirectory();
        TinyCheckpoint.Write(single.Path, config, seed: 7);
        TinyCheckpoint.Write(sharded.Path, config, seed: 7, shardCount: shards);

        Assert.False(File.Exists(Path.Combine(sharded.Path, "model.safetensors")));
        Assert.Equal(shards, Directory.GetFiles(sharded.Path, "model-*-of-*.safetensors").Length);
        using var a = SafeTensorsCheckpoint.Open(single.Path);
        using var b = SafeTensorsCheckpoint.Open(sharded.Path);
        Assert.False(a.IsSharded);
        Assert.True(b.IsSharded);
        Assert.Equal(shards, b.FilePaths.Count);
        Assert.Equal(a.TensorNames, b.TensorNames);
        var expected = LlamaTensorNames.Expected(config);
        Assert.Equal(expected.Select(e => e.Name).Order(StringComparer.Ordinal), a.TensorNames);
        foreach (var (name, shape) in expected)
        {
            using var x = a.Load(name, shape, ScalarType.Float32);
            using var y = b.Load(name, shape, ScalarType.Float32);
            Assert.Equal(Bytes(x), Bytes(y));
        }
    }

    [Fact]
    public void MissingTensorNamesFileAndTensor()
    {
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, TinyCheckpoint.LlamaTied(), seed: 1);
        using var weights = SafeTensorsCheckpoint.Open(dir.Path);
        Assert.False(weights.Contains(LlamaTensorNames.LmHead));

        var e = Assert.Throws<ModelLoadException>(() => weights.Load(LlamaTensorNames.LmHead, [300, 64], ScalarType.Float32));
        Assert.Equal(Path.Combine(dir.Path, "model.safetensors"), e.File);
        Assert.Equal("lm_head.weight", e.Tensor);
        Assert.Contains("model.safetensors: tensor 'lm_head.weight': missing tensor", e.Message);
    }

    [Fact]
    public void MissingTensorInShardedCheckpointNamesTheIndex()
    {
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, TinyCheckpoint.LlamaGqa(), seed: 1, shardCount: 2);
        using var weights = SafeTensorsCheckpoint.Open(dir.Path);
        var e = Assert.Throws<ModelLoadException>(() => weights.Load("model.layers.9.mlp.up_proj.weight", [128, 64], ScalarType.Float32));
        Assert.Contains("model.safetensors.index.json: tensor 'model.layers.9.mlp.up_proj.weight': missing tensor", e.Message);
    }

    [Fact]
    public void ShapeMismatchNamesFileTensorAndBothShapes()
    {
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, TinyCheckpoint.LlamaGqa(), seed: 1);
        using var weights = SafeTensorsCheckpoint.Open(dir.Path);
        string name = LlamaTensorNames.KProj(2);

        var e = Assert.Throws<ModelLoadException>(() => weights.Load(name, [64, 64], ScalarType.Float32));
        Assert.Equal(name, e.Tensor);
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("tensor 'model.layers.2.self_attn.k_proj.weight'", e.Message);
        Assert.Contains("shape [32,64] does not match expected [64,64]", e.Message);
    }

    [Fact]
    public void MissingShardNamedInIndex()
    {
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, TinyCheckpoint.LlamaGqa(), seed: 1, shardCount: 3);
        string missing = "model-00002-of-00003.safetensors";
        File.Delete(Path.Combine(dir.Path, missing));

        var e = Assert.Throws<ModelLoadException>(() => SafeTensorsCheckpoint.Open(dir.Path).Dispose());
        Assert.Equal(Path.Combine(dir.Path, "model.safetensors.index.json"), e.File);
        Assert.Contains($"shard '{missing}' named in weight_map is missing", e.Message);
        Assert.NotNull(e.Tensor);

        var e2 = Assert.Throws<ModelLoadException>(() => ModelDirectory.Open(dir.Path));
        Assert.Contains("model.safetensors.index.json", e2.Message);
        Assert.Contains(missing, e2.Message);
    }

    [Fact]
    public void IndexPointingAtTheWrongShard()
    {
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, TinyCheckpoint.LlamaGqa(), seed: 1, shardCount: 2);
        string indexPath = Path.Combine(dir.Path, "model.safetensors.index.json");
        var index = JsonNode.Parse(File.ReadAllText(indexPath))!.AsObject();
        index["weight_map"]![LlamaTensorNames.Embedding] = "model-00002-of-00002.safetensors";
        File.WriteAllText(indexPath, index.ToJsonString());

        var e = Assert.Throws<ModelLoadException>(() => SafeTensorsCheckpoint.Open(dir.Path).Dispose());
        Assert.Equal(LlamaTensorNames.Embedding, e.Tensor);
        Assert.Contains("model.safetensors.index.json", e.Message);
        Assert.Contains("shard 'model-00002-of-00002.safetensors', which does not contain it", e.Message);
    }

    [Fact]
    public void IndexShardOutsideTheDirectoryIsRefused()
    {
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, TinyCheckpoint.LlamaGqa(), seed: 1, shardCount: 2);
        string indexPath = Path.Combine(dir.Path, "model.safetensors.index.json");
        File.WriteAllText(indexPath, """{"weight_map":{"model.norm.weight":"../elsewhere.safetensors"}}""");
        var e = Assert.Throws<ModelLoadException>(() => SafeTensorsCheckpoint.Open(dir.Path).Dispose());
        Assert.Contains("must be a file name in the model directory", e.Message);
    }

    [Fact]
    public void CorruptIndexJson()
    {
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, TinyCheckpoint.LlamaGqa(), seed: 1, shardCount: 2);
        File.WriteAllText(Path.Combine(dir.Path, "model.safetensors.index.json"), "{\"weight_map\": {");
        var e = Assert.Throws<ModelLoadException>(() => SafeTensorsCheckpoint.Open(dir.Path).Dispose());
        Assert.Contains("model.safetensors.index.json: invalid JSON", e.Message);
    }

    [Fact]
    public void NoWeightsInDirectory()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<ModelLoadException>(() => SafeTensorsCheckpoint.Open(dir.Path).Dispose());
        Assert.Contains(dir.Path, e.Message);
        Assert.Contains("no weights", e.Message);
    }

    [Fact]
    public void BFloat16CheckpointLoadsAsFloat32Values()
    {
        var config = TinyCheckpoint.Qwen2WithBias();
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, config, seed: 3, dtype: ScalarType.BFloat16);
        using var weights = SafeTensorsCheckpoint.Open(dir.Path);
        string name = LlamaTensorNames.QBias(0);
        Assert.Equal("BF16", weights.GetInfo(name).DType);

        using var asBf16 = weights.Load(name, [64], ScalarType.BFloat16);
        using var asF32 = weights.Load(name, [64], ScalarType.Float32);
        using var expected = asBf16.to(ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, asF32.dtype);
        Assert.Equal(Bytes(expected), Bytes(asF32));
    }
}
