using System.Text.Json.Nodes;
using PdServe.Engine.Loading;
using PdServe.TestSupport;

namespace PdServe.Engine.Tests.Loading;

public sealed class ModelConfigTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private string WriteConfig(string json)
    {
        string path = dir.Combine("config.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static JsonObject Llama() => TinyCheckpoint.ConfigJson(TinyCheckpoint.LlamaGqa());

    [Fact]
    public void TinyCheckpointConfigJsonParsesBackToTheSameConfig()
    {
        foreach (var original in new[]
                 {
                     TinyCheckpoint.LlamaGqa(), TinyCheckpoint.LlamaTied(), TinyCheckpoint.Qwen2WithBias(),
                     TinyCheckpoint.Llama3RopeScaling(), TinyCheckpoint.DefaultConfig(attentionBias: true),
                 })
        {
            var parsed = ModelConfig.Load(WriteConfig(TinyCheckpoint.ConfigJson(original).ToJsonString()));
            Assert.Equal(original with { EosTokenIds = parsed.EosTokenIds }, parsed);
            Assert.Equal(original.EosTokenIds, parsed.EosTokenIds);
        }
    }

    [Fact]
    public void ExplicitHeadDimOverridesHiddenOverHeads()
    {
        var json = Llama();
        json["head_dim"] = 32; // hidden 64 / 4 heads would be 16
        var config = ModelConfig.Load(WriteConfig(json.ToJsonString()));
        Assert.Equal(32, config.HeadDim);
        var names = LlamaTensorNames.Expected(config).ToDictionary(e => e.Name, e => e.Shape);
        Assert.Equal([128L, 64], names[LlamaTensorNames.QProj(0)]);
        Assert.Equal([64L, 64], names[LlamaTensorNames.KProj(0)]);
        Assert.Equal([64L, 128], names[LlamaTensorNames.OProj(0)]);
    }

    [Fact]
    public void HeadDimDefaultsToHiddenOverHeads()
    {
        var json = Llama();
        json.Remove("head_dim");
        Assert.Equal(16, ModelConfig.Load(WriteConfig(json.ToJsonString())).HeadDim);
    }

    [Fact]
    public void Llama3RopeScaling()
    {
        var json = Llama();
        json["rope_scaling"] = JsonNode.Parse(
            """{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192}""");
        var config = ModelConfig.Load(WriteConfig(json.ToJsonString()));
        Assert.Equal(new RopeScaling("llama3", 8.0, 1.0, 4.0, 8192), config.RopeScaling);
    }

    [Fact]
    public void LinearRopeScalingWithLegacyTypeKey()
    {
        var json = Llama();
        json["rope_scaling"] = JsonNode.Parse("""{"type":"linear","factor":2.0}""");
        var config = ModelConfig.Load(WriteConfig(json.ToJsonString()));
        Assert.Equal("linear", config.RopeScaling!.Type);
        Assert.Equal(2.0, config.RopeScaling.Factor);
    }

    [Fact]
    public void UnsupportedRopeScalingIsRefused()
    {
        var json = Llama();
        json["rope_scaling"] = JsonNode.Parse("""{"rope_type":"yarn","factor":4.0}""");
        string path = WriteConfig(json.ToJsonString());
        var e = Assert.Throws<ModelLoadException>(() => ModelConfig.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("unsupported rope_scaling type 'yarn'", e.Message);
    }

    [Fact]
    public void Qwen2HasQkvBiasButNoOutputBias()
    {
        var config = ModelConfig.Load(WriteConfig(TinyCheckpoint.ConfigJson(TinyCheckpoint.Qwen2WithBias()).ToJsonString()));
        Assert.Equal("Qwen2ForCausalLM", config.Architecture);
        Assert.True(config.AttentionBias);
        Assert.False(config.OutputProjectionBias);
        var names = LlamaTensorNames.Expected(config).Select(e => e.Name).ToHashSet();
        Assert.Contains("model.layers.0.self_attn.q_proj.bias", names);
        Assert.Contains("model.layers.3.self_attn.v_proj.bias", names);
        Assert.DoesNotContain("model.layers.0.self_attn.o_proj.bias", names);
        Assert.DoesNotContain("lm_head.weight", names);
    }

    [Fact]
    public void LlamaAttentionBiasCoversOutputProjection()
    {
        var json = Llama();
        json["attention_bias"] = true;
        var config = ModelConfig.Load(WriteConfig(json.ToJsonString()));
        Assert.True(config.AttentionBias);
        Assert.True(config.OutputProjectionBias);
        Assert.Contains(LlamaTensorNames.Expected(config), e => e.Name == "model.layers.1.self_attn.o_proj.bias");
    }

    [Fact]
    public void UnsupportedArchitecture()
    {
        var json = Llama();
        json["architectures"] = new JsonArray("GPT2LMHeadModel");
        json["model_type"] = "gpt2";
        string path = WriteConfig(json.ToJsonString());
        var e = Assert.Throws<ModelLoadException>(() => ModelConfig.Load(path));
        Assert.Equal(path, e.File);
        Assert.Contains(path, e.Message);
        Assert.Contains("unsupported architecture 'GPT2LMHeadModel'", e.Message);
    }

    [Fact]
    public void HeadsNotDivisibleByKvHeads()
    {
        var json = Llama();
        json["num_attention_heads"] = 4;
        json["num_key_value_heads"] = 3;
        string path = WriteConfig(json.ToJsonString());
        var e = Assert.Throws<ModelLoadException>(() => ModelConfig.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("num_attention_heads 4 is not a multiple of num_key_value_heads 3", e.Message);
    }

    [Fact]
    public void InvalidConfigJson()
    {
        string path = WriteConfig("{\"hidden_size\": ");
        var e = Assert.Throws<ModelLoadException>(() => ModelConfig.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("invalid JSON", e.Message);
    }
}
