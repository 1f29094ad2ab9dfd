using System.Text.Json;
using System.Text.Json.Nodes;

namespace PdServe.Engine.Loading;

/// <summary>
/// Decoding defaults from a Hugging Face generation_config.json. A missing file gives <see cref="Default"/>
/// (Hugging Face's own defaults: greedy, temperature 1, top_p 1, top_k 50).
/// </summary>
public sealed record GenerationConfig
{
    public static GenerationConfig Default { get; } = new();

    public int? BosTokenId { get; init; }
    /// <summary>End-of-sequence ids; generation_config.json allows one id or a list.</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }
    public bool DoSample { get; init; }
    public double Temperature { get; init; } = 1.0;
    public double TopP { get; init; } = 1.0;
    public int TopK { get; init; } = 50;
    public int? MaxNewTokens { get; init; }

    /// <summary>Reads <paramref name="path"/>; <see cref="Default"/> when the file does not exist.</summary>
    public static GenerationConfig Load(string path)
    {
        if (!File.Exists(path)) return Default;
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new ModelLoadException(path, $"invalid JSON: {e.Message}");
        }
        return Parse(root as JsonObject ?? throw new ModelLoadException(path, "expected a JSON object"), path);
    }

    public static GenerationConfig Parse(JsonObject root, string source)
    {
        try
        {
            var config = new GenerationConfig
            {
                BosTokenId = Int(root, "bos_token_id"),
                EosTokenIds = ModelConfig.ReadTokenIdList(root["eos_token_id"]),
                PadTokenId = Int(root, "pad_token_id"),
                DoSample = root["do_sample"]?.GetValue<bool>() ?? false,
                Temperature = Double(root, "temperature") ?? 1.0,
                TopP = Double(root, "top_p") ?? 1.0,
                TopK = Int(root, "top_k") ?? 50,
                MaxNewTokens = Int(root, "max_new_tokens"),
            };
            if (config.Temperature < 0 || double.IsNaN(config.Temperature))
                throw new ModelLoadException(source, $"'temperature' must be non-negative, got {config.Temperature}");
            if (config.TopP is <= 0 or > 1 || double.IsNaN(config.TopP))
                throw new ModelLoadException(source, $"'top_p' must be in (0, 1], got {config.TopP}");
            if (config.TopK < 0) throw new ModelLoadException(source, $"'top_k' must be non-negative, got {config.TopK}");
            if (config.MaxNewTokens is < 0)
                throw new ModelLoadException(source, $"'max_new_tokens' must be non-negative, got {config.MaxNewTokens}");
            return config;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
        {
            throw new ModelLoadException(source, $"invalid value: {e.Message}");
        }
    }

    private static int? Int(JsonObject obj, string key)
    {
        if (obj[key] is not JsonValue value) return null;
        if (value.TryGetValue(out int i)) return i;
        if (value.TryGetValue(out double d) && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue) return (int)d;
        throw new InvalidOperationException($"'{key}' must be an integer");
    }

    private static double? Double(JsonObject obj, string key) =>
        obj[key] is JsonValue value
            ? value.TryGetValue(out double d) ? d : throw new InvalidOperationException($"'{key}' must be a number")
            : null;
}
