using System.Text.Json.Nodes;
using PdServe.Engine.Loading;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Loading;

public sealed class ModelDirectoryTests
{
    [Fact]
    public void OpensATinyCheckpointAndLoadsEveryExpectedTensor()
    {
        using var dir = new TempDirectory();
        var config = TinyCheckpoint.LlamaGqa();
        TinyCheckpoint.Write(dir.Path, config, seed: 11);

        var model = ModelDirectory.Open(dir.Path);
        Assert.Equal(Path.GetFullPath(dir.Path), model.Path);
        Assert.Equal(Path.Combine(model.Path, "config.json"), model.ConfigPath);
        Assert.Equal(Path.Combine(model.Path, "tokenizer.json"), model.TokenizerJsonPath);
        Assert.False(model.HasTokenizerJson);
        Assert.False(model.IsSharded);
        Assert.Equal([Path.Combine(model.Path, "model.safetensors")], model.WeightFiles);
        Assert.Equal(config.NumLayers, model.Config.NumLayers);
        Assert.Equal([2], model.EosTokenIds);
        Assert.Equal(1, model.BosTokenId);

        using var weights = model.OpenWeights();
        IWeightSource source = weights;
        foreach (var (name, shape) in LlamaTensorNames.Expected(model.Config))
        {
            Assert.True(source.Contains(name));
            using var t = source.Load(name, shape, ScalarType.Float32);
            Assert.Equal(shape, t.shape);
        }
        Assert.Equal(LlamaTensorNames.Expected(config).Count, weights.TensorNames.Count);
    }

    [Fact]
    public void GenerationConfigEosListWinsOverConfigEos()
    {
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, TinyCheckpoint.LlamaGqa(), seed: 1,
            generationConfig: new JsonObject { ["eos_token_id"] = new JsonArray(2, 7), ["temperature"] = 0.7 });
        var model = ModelDirectory.Open(dir.Path);
        Assert.Equal([2], model.Config.EosTokenIds);
        Assert.Equal([2, 7], model.EosTokenIds);
        Assert.Equal(0.7, model.Generation.Temperature);
        Assert.Equal(1, model.BosTokenId); // generation_config has none: config.json's
    }

    [Fact]
    public void ConfigEosIsUsedWhenGenerationConfigIsAbsent()
    {
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, TinyCheckpoint.LlamaGqa() with { EosTokenIds = [2, 3] }, seed: 1);
        File.Delete(Path.Combine(dir.Path, "generation_config.json"));
        var model = ModelDirectory.Open(dir.Path);
        Assert.Same(GenerationConfig.Default, model.Generation);
        Assert.Equal([2, 3], model.EosTokenIds);
    }

    [Fact]
    public void MissingDirectory()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("does-not-exist");
        var e = Assert.Throws<ModelLoadException>(() => ModelDirectory.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("model directory not found", e.Message);
    }

    [Fact]
    public void MissingConfigJson()
    {
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, TinyCheckpoint.LlamaGqa(), seed: 1);
        File.Delete(Path.Combine(dir.Path, "config.json"));
        var e = Assert.Throws<ModelLoadException>(() => ModelDirectory.Open(dir.Path));
        Assert.Equal(Path.Combine(Path.GetFullPath(dir.Path), "config.json"), e.File);
        Assert.Contains("config.json: file not found", e.Message);
    }

    [Fact]
    public void MissingWeights()
    {
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, TinyCheckpoint.LlamaGqa(), seed: 1);
        File.Delete(Path.Combine(dir.Path, "model.safetensors"));
        var e = Assert.Throws<ModelLoadException>(() => ModelDirectory.Open(dir.Path));
        Assert.Contains(dir.Path, e.Message);
        Assert.Contains("neither model.safetensors nor model.safetensors.index.json is present", e.Message);
    }

    [Fact]
    public void UnsupportedArchitectureNamesConfigJson()
    {
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, TinyCheckpoint.LlamaGqa(), seed: 1);
        string configPath = Path.Combine(dir.Path, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        json["architectures"] = new JsonArray("GPT2LMHeadModel");
        File.WriteAllText(configPath, json.ToJsonString());
        var e = Assert.Throws<ModelLoadException>(() => ModelDirectory.Open(dir.Path));
        Assert.Contains("config.json: unsupported architecture 'GPT2LMHeadModel'", e.Message);
    }

    [Fact]
    public void ShardedDirectoryListsShardsInOrder()
    {
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, TinyCheckpoint.Qwen2WithBias(), seed: 1, shardCount: 3);
        var model = ModelDirectory.Open(dir.Path);
        Assert.True(model.IsSharded);
        Assert.Equal(
            ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"],
            model.WeightFiles.Select(Path.GetFileName));
    }
}
