using System.Text.Json;
using System.Text.Json.Nodes;

namespace PdServe.Engine.Loading;

/// <summary>RoPE frequency scaling from config.json's <c>rope_scaling</c> ("llama3" or "linear").</summary>
public sealed record RopeScaling(
    string Type,
    double Factor,
    double LowFreqFactor = 1.0,
    double HighFreqFactor = 4.0,
    int OriginalMaxPositionEmbeddings = 8192);

/// <summary>
/// The architecture of a Llama-family decoder (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM),
/// read from a Hugging Face config.json.
/// </summary>
public sealed record ModelConfig
{
    public static readonly IReadOnlyList<string> SupportedArchitectures =
        ["LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM"];

    public required string Architecture { get; init; }
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required int NumKvHeads { get; init; }
    public required int HeadDim { get; init; }
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000.0;
    public RopeScaling? RopeScaling { get; init; }
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Bias on the q/k/v projections (always for Qwen2, <c>attention_bias</c> for Llama).</summary>
    public bool AttentionBias { get; init; }
    /// <summary>Bias on the attention output projection (Llama's <c>attention_bias</c> covers it too).</summary>
    public bool OutputProjectionBias { get; init; }
    public bool MlpBias { get; init; }
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    public int QueryGroupSize => NumHeads / NumKvHeads;

    public static ModelConfig Load(string configPath)
    {
        if (!File.Exists(configPath))
            throw new ModelLoadException(configPath, "file not found");
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject
                   ?? throw new ModelLoadException(configPath, "expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new ModelLoadException(configPath, $"invalid JSON: {e.Message}");
        }
        return Parse(root, configPath);
    }

    public static ModelConfig Parse(JsonObject root, string source)
    {
        string architecture = root["architectures"] is JsonArray { Count: > 0 } arch
            ? arch[0]?.GetValue<string>() ?? ""
            : root["model_type"]?.GetValue<string>() switch
            {
                "llama" => "LlamaForCausalLM",
                "mistral" => "MistralForCausalLM",
                "qwen2" => "Qwen2ForCausalLM",
                var other => other ?? "",
            };
        if (!SupportedArchitectures.Contains(architecture))
            throw new ModelLoadException(source,
                $"unsupported architecture '{architecture}' (supported: {string.Join(", ", SupportedArchitectures)})");

        int RequiredInt(string key)
        {
            int value = ReadInt(root, key, source) ?? throw new ModelLoadException(source, $"missing '{key}'");
            if (value <= 0) throw new ModelLoadException(source, $"'{key}' must be positive, got {value}");
            return value;
        }

        int hidden = RequiredInt("hidden_size");
        int heads = RequiredInt("num_attention_heads");
        int kvHeads = ReadInt(root, "num_key_value_heads", source) ?? heads;
        int headDim = ReadInt(root, "head_dim", source) ?? (hidden % heads == 0
            ? hidden / heads
            : throw new ModelLoadException(source, $"hidden_size {hidden} is not divisible by num_attention_heads {heads} and no head_dim is given"));
        if (kvHeads <= 0 || heads % kvHeads != 0)
            throw new ModelLoadException(source, $"num_attention_heads {heads} is not a multiple of num_key_value_heads {kvHeads}");
        if (headDim % 2 != 0)
            throw new ModelLoadException(source, $"head_dim {headDim} must be even for rotary embeddings");

        bool isQwen2 = architecture == "Qwen2ForCausalLM";
        bool llamaAttentionBias = ReadBool(root, "attention_bias") ?? false;
        return new ModelConfig
        {
            Architecture = architecture,
            VocabSize = RequiredInt("vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = RequiredInt("intermediate_size"),
            NumLayers = RequiredInt("num_hidden_layers"),
            NumHeads = heads,
            NumKvHeads = kvHeads,
            HeadDim = headDim,
            RmsNormEps = ReadDouble(root, "rms_norm_eps") ?? 1e-6,
            RopeTheta = ReadDouble(root, "rope_theta") ?? 10000.0,
            RopeScaling = ParseRopeScaling(root["rope_scaling"], source),
            TieWordEmbeddings = ReadBool(root, "tie_word_embeddings") ?? false,
            AttentionBias = isQwen2 || llamaAttentionBias,
            OutputProjectionBias = !isQwen2 && llamaAttentionBias,
            MlpBias = ReadBool(root, "mlp_bias") ?? false,
            MaxPositionEmbeddings = ReadInt(root, "max_position_embeddings", source) ?? 2048,
            BosTokenId = ReadInt(root, "bos_token_id", source),
            EosTokenIds = ReadTokenIdList(root["eos_token_id"]),
        };
    }

    /// <summary>Reads an id or a list of ids (generation_config.json allows both for eos_token_id).</summary>
    public static IReadOnlyList<int> ReadTokenIdList(JsonNode? node) => node switch
    {
        null => [],
        JsonArray array => array.Where(n => n is not null).Select(n => n!.GetValue<int>()).ToArray(),
        JsonValue value => [value.GetValue<int>()],
        _ => [],
    };

    private static RopeScaling? ParseRopeScaling(JsonNode? node, string source)
    {
        if (node is not JsonObject scaling) return null;
        string type = (scaling["rope_type"] ?? scaling["type"])?.GetValue<string>() ?? "";
        double factor = ReadDouble(scaling, "factor") ?? 1.0;
        return type switch
        {
            "default" => null,
            "linear" => new RopeScaling("linear", factor),
            "llama3" => new RopeScaling("llama3", factor,
                ReadDouble(scaling, "low_freq_factor") ?? 1.0,
                ReadDouble(scaling, "high_freq_factor") ?? 4.0,
                ReadInt(scaling, "original_max_position_embeddings", source) ?? 8192),
            _ => throw new ModelLoadException(source,
                $"unsupported rope_scaling type '{type}' (supported: llama3, linear)"),
        };
    }

    private static int? ReadInt(JsonObject obj, string key, string source)
    {
        if (obj[key] is not JsonValue value) return null;
        if (value.TryGetValue(out int i)) return i;
        if (value.TryGetValue(out double d) && d == Math.Floor(d)) return (int)d;
        throw new ModelLoadException(source, $"'{key}' must be an integer");
    }

    private static double? ReadDouble(JsonObject obj, string key) =>
        obj[key] is JsonValue value && value.TryGetValue(out double d) ? d : null;

    private static bool? ReadBool(JsonObject obj, string key) =>
        obj[key] is JsonValue value && value.TryGetValue(out bool b) ? b : null;
}
