using System.Text.Json.Nodes;
using PdServe.Engine.Loading;
using PdServe.TestSupport;

namespace PdServe.Engine.Tests.Loading;

public sealed class ModelFingerprintTests
{
    [Fact]
    public void SameContentInDifferentDirectoriesGivesTheSameFingerprint()
    {
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        TinyCheckpoint.Write(a.Path, TinyCheckpoint.LlamaGqa(), seed: 5);
        TinyCheckpoint.Write(b.Path, TinyCheckpoint.LlamaGqa(), seed: 5);
        string fa = ModelFingerprint.Compute(a.Path);
        Assert.Matches("^[0-9a-f]{64}$", fa);
        Assert.Equal(fa, ModelFingerprint.Compute(b.Path));
        Assert.Equal(fa, ModelDirectory.Open(a.Path).Fingerprint);
    }

    [Fact]
    public void DifferentWeightsConfigOrLayoutChangeIt()
    {
        using var baseline = new TempDirectory();
        using var otherSeed = new TempDirectory();
        using var sharded = new TempDirectory();
        using var otherConfig = new TempDirectory();
        TinyCheckpoint.Write(baseline.Path, TinyCheckpoint.LlamaGqa(), seed: 5);
        TinyCheckpoint.Write(otherSeed.Path, TinyCheckpoint.LlamaGqa(), seed: 6);
        TinyCheckpoint.Write(sharded.Path, TinyCheckpoint.LlamaGqa(), seed: 5, shardCount: 2);
        TinyCheckpoint.Write(otherConfig.Path, TinyCheckpoint.LlamaGqa(), seed: 5);
        string configPath = Path.Combine(otherConfig.Path, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        json["rope_theta"] = 20000.0;
        File.WriteAllText(configPath, json.ToJsonString());

        var fingerprints = new[] { baseline, otherSeed, sharded, otherConfig }
            .Select(d => ModelFingerprint.Compute(d.Path)).ToArray();
        Assert.Equal(4, fingerprints.Distinct().Count());
    }

    [Fact]
    public void IgnoresGenerationConfigAndTokenizerFiles()
    {
        using var a = new TempDirectory();
        TinyCheckpoint.Write(a.Path, TinyCheckpoint.LlamaGqa(), seed: 5);
        string before = ModelFingerprint.Compute(a.Path);
        using var b = new TempDirectory();
        TinyCheckpoint.Write(b.Path, TinyCheckpoint.LlamaGqa(), seed: 5,
            generationConfig: new JsonObject { ["temperature"] = 0.3 });
        File.WriteAllText(Path.Combine(b.Path, "tokenizer_config.json"), "{}");
        Assert.Equal(before, ModelFingerprint.Compute(b.Path));
    }

    [Fact]
    public void RewrittenWeightsAreNoticed()
    {
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, TinyCheckpoint.LlamaGqa(), seed: 5);
        string before = ModelFingerprint.Compute(dir.Path);
        string weights = Path.Combine(dir.Path, "model.safetensors");
        byte[] raw = File.ReadAllBytes(weights);
        raw[^1] ^= 0x01; // same length; the write also moves the last-write time
        File.WriteAllBytes(weights, raw);
        File.SetLastWriteTimeUtc(weights, DateTime.UtcNow.AddMinutes(1));
        Assert.NotEqual(before, ModelFingerprint.Compute(dir.Path));
    }

    [Fact]
    public void MissingWeightFile()
    {
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, TinyCheckpoint.LlamaGqa(), seed: 5);
        File.Delete(Path.Combine(dir.Path, "model.safetensors"));
        var e = Assert.Throws<ModelLoadException>(() => ModelFingerprint.Compute(dir.Path));
        Assert.Contains("model.safetensors: file not found", e.Message);
    }
}
