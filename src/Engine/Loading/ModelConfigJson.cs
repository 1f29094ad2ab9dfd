using System.Text.Json.Nodes;
using TorchSharp;

namespace PdServe.Engine.Loading;

/// <summary>Writes a <see cref="ModelConfig"/> back as Hugging Face's config.json and generation_config.json.</summary>
public static class ModelConfigJson
{
    /// <summary>config.json as Hugging Face writes it for <paramref name="config"/>.</summary>
    public static JsonObject Config(ModelConfig config, torch.ScalarType dtype = torch.ScalarType.Float32)
    {
        bool qwen2 = config.Architecture == "Qwen2ForCausalLM";
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(config.Architecture),
            ["model_type"] = config.Architecture switch
            {
                "LlamaForCausalLM" => "llama",
                "MistralForCausalLM" => "mistral",
                "Qwen2ForCausalLM" => "qwen2",
                _ => config.Architecture,
            },
            ["hidden_size"] = config.HiddenSize,
            ["intermediate_size"] = config.IntermediateSize,
            ["num_hidden_layers"] = config.NumLayers,
            ["num_attention_heads"] = config.NumHeads,
            ["num_key_value_heads"] = config.NumKvHeads,
            ["head_dim"] = config.HeadDim,
            ["hidden_act"] = "silu",
            ["rms_norm_eps"] = config.RmsNormEps,
            ["rope_theta"] = config.RopeTheta,
            ["rope_scaling"] = config.RopeScaling switch
            {
                null => null,
                { Type: "llama3" } r => new JsonObject
                {
                    ["rope_type"] = "llama3",
                    ["factor"] = r.Factor,
                    ["low_freq_factor"] = r.LowFreqFactor,
                    ["high_freq_factor"] = r.HighFreqFactor,
                    ["original_max_position_embeddings"] = r.OriginalMaxPositionEmbeddings,
                },
                var r => new JsonObject { ["rope_type"] = r.Type, ["factor"] = r.Factor },
            },
            ["tie_word_embeddings"] = config.TieWordEmbeddings,
            ["max_position_embeddings"] = config.MaxPositionEmbeddings,
            ["vocab_size"] = config.VocabSize,
            ["torch_dtype"] = dtype switch
            {
                torch.ScalarType.BFloat16 => "bfloat16",
                torch.ScalarType.Float16 => "float16",
                _ => "float32",
            },
        };
        if (!qwen2) json["attention_bias"] = config.AttentionBias;
        if (config.MlpBias) json["mlp_bias"] = true;
        if (config.BosTokenId is int bos) json["bos_token_id"] = bos;
        if (TokenIds(config.EosTokenIds) is { } eos) json["eos_token_id"] = eos;
        return json;
    }

    /// <summary>generation_config.json with the config's BOS/EOS ids (EOS as a list when there are several).</summary>
    public static JsonObject GenerationConfig(ModelConfig config)
    {
        var json = new JsonObject();
        if (config.BosTokenId is int bos) json["bos_token_id"] = bos;
        if (TokenIds(config.EosTokenIds) is { } eos) json["eos_token_id"] = eos;
        return json;
    }

    private static JsonNode? TokenIds(IReadOnlyList<int> ids) => ids.Count switch
    {
        0 => null,
        1 => JsonValue.Create(ids[0]),
        _ => new JsonArray(ids.Select(id => (JsonNode?)JsonValue.Create(id)).ToArray()),
    };

    /// <summary>Writes config.json and generation_config.json into <paramref name="directory"/>.</summary>
    public static void WriteFiles(string directory, ModelConfig config, torch.ScalarType dtype)
    {
        Directory.CreateDirectory(directory);
        var options = new System.Text.Json.JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(directory, ModelDirectory.ConfigFileName), Config(config, dtype).ToJsonString(options) + "\n");
        File.WriteAllText(Path.Combine(directory, ModelDirectory.GenerationConfigFileName), GenerationConfig(config).ToJsonString(options) + "\n");
    }
}
