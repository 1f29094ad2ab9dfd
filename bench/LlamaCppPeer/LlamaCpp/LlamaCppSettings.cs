using LLama.Native;

namespace LlamaCppPeer.LlamaCpp;

/// <summary>How llama.cpp runs the model: threads, context, sequences, attention kernel and KV cache type.</summary>
/// <param name="TokensPerSequence">KV cells each sequence needs (prompt plus every token it will decode).</param>
/// <param name="Sequences">Sequences decoded side by side in one batch; each gets its own KV stream.</param>
/// <param name="BatchTokens">The most tokens one llama_decode call is handed (a whole prompt at once).</param>
public sealed record LlamaCppSettings(
    int Threads,
    int TokensPerSequence,
    int Sequences,
    int BatchTokens,
    bool FlashAttention,
    GGMLType KvCacheType)
{
    /// <summary>The KV cache types the command line accepts.</summary>
    public static GGMLType ParseKvCacheType(string text) => text.ToLowerInvariant() switch
    {
        "f16" => GGMLType.GGML_TYPE_F16,
        "f32" => GGMLType.GGML_TYPE_F32,
        _ => throw new ArgumentException($"unknown KV cache type '{text}' (known: f16, f32)"),
    };

    public static string KvCacheTypeName(GGMLType type) => type == GGMLType.GGML_TYPE_F32 ? "f32" : "f16";
}
