namespace PdServe.Engine.Loading;

/// <summary>
/// The Hugging Face tensor names of a Llama-family checkpoint (Llama, Mistral, Qwen2), shared by the model code
/// that loads them and the test builder that writes them.
/// </summary>
public static class LlamaTensorNames
{
    public const string Embedding = "model.embed_tokens.weight";
    public const string FinalNorm = "model.norm.weight";
    public const string LmHead = "lm_head.weight";

    public static string LayerPrefix(int layer) => $"model.layers.{layer}";

    public static string InputNorm(int layer) => $"{LayerPrefix(layer)}.input_layernorm.weight";
    public static string PostAttentionNorm(int layer) => $"{LayerPrefix(layer)}.post_attention_layernorm.weight";

    public static string QProj(int layer) => Attention(layer, "q_proj", "weight");
    public static string KProj(int layer) => Attention(layer, "k_proj", "weight");
    public static string VProj(int layer) => Attention(layer, "v_proj", "weight");
    public static string OProj(int layer) => Attention(layer, "o_proj", "weight");
    public static string QBias(int layer) => Attention(layer, "q_proj", "bias");
    public static string KBias(int layer) => Attention(layer, "k_proj", "bias");
    public static string VBias(int layer) => Attention(layer, "v_proj", "bias");
    public static string OBias(int layer) => Attention(layer, "o_proj", "bias");

    public static string GateProj(int layer) => Mlp(layer, "gate_proj", "weight");
    public static string UpProj(int layer) => Mlp(layer, "up_proj", "weight");
    public static string DownProj(int layer) => Mlp(layer, "down_proj", "weight");
    public static string GateBias(int layer) => Mlp(layer, "gate_proj", "bias");
    public static string UpBias(int layer) => Mlp(layer, "up_proj", "bias");
    public static string DownBias(int layer) => Mlp(layer, "down_proj", "bias");

    /// <summary>
    /// Every tensor a checkpoint of <paramref name="config"/> holds, with its shape ([out, in] for projections),
    /// in the order the model uses them. Biases appear only when the config enables them; <c>lm_head.weight</c>
    /// only when the embeddings are not tied.
    /// </summary>
    public static IReadOnlyList<(string Name, long[] Shape)> Expected(ModelConfig config)
    {
        long hidden = config.HiddenSize;
        long q = (long)config.NumHeads * config.HeadDim;
        long kv = (long)config.NumKvHeads * config.HeadDim;
        long inter = config.IntermediateSize;
        var list = new List<(string, long[])> { (Embedding, [config.VocabSize, hidden]) };
        for (int i = 0; i < config.NumLayers; i++)
        {
            list.Add((InputNorm(i), [hidden]));
            list.Add((QProj(i), [q, hidden]));
            list.Add((KProj(i), [kv, hidden]));
            list.Add((VProj(i), [kv, hidden]));
            if (config.AttentionBias)
            {
                list.Add((QBias(i), [q]));
                list.Add((KBias(i), [kv]));
                list.Add((VBias(i), [kv]));
            }
            list.Add((OProj(i), [hidden, q]));
            if (config.OutputProjectionBias) list.Add((OBias(i), [hidden]));
            list.Add((PostAttentionNorm(i), [hidden]));
            list.Add((GateProj(i), [inter, hidden]));
            list.Add((UpProj(i), [inter, hidden]));
            list.Add((DownProj(i), [hidden, inter]));
            if (config.MlpBias)
            {
                list.Add((GateBias(i), [inter]));
                list.Add((UpBias(i), [inter]));
                list.Add((DownBias(i), [hidden]));
            }
        }
        list.Add((FinalNorm, [hidden]));
        if (!config.TieWordEmbeddings) list.Add((LmHead, [config.VocabSize, hidden]));
        return list;
    }

    private static string Attention(int layer, string proj, string kind) => $"{LayerPrefix(layer)}.self_attn.{proj}.{kind}";
    private static string Mlp(int layer, string proj, string kind) => $"{LayerPrefix(layer)}.mlp.{proj}.{kind}";
}
