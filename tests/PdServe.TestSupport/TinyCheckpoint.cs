using System.Text.Json;
using System.Text.Json.Nodes;
using PdServe.Engine.Loading;
using TorchSharp;

namespace PdServe.TestSupport;

/// <summary>
/// Writes tiny Hugging Face model directories with deterministic random weights: config.json,
/// generation_config.json and model.safetensors (or shards plus model.safetensors.index.json). No tokenizer.
/// </summary>
public static class TinyCheckpoint
{
    /// <summary>
    /// Llama with grouped-query attention: hidden 64, 4 heads of 16, 2 KV heads, 4 layers, vocab 300,
    /// intermediate 128; BOS 1, EOS 2.
    /// </summary>
    public static ModelConfig DefaultConfig(
        string architecture = "LlamaForCausalLM",
        bool tieWordEmbeddings = false,
        bool attentionBias = false,
        RopeScaling? ropeScaling = null,
        int numLayers = 4,
        int hiddenSize = 64,
        int numHeads = 4,
        int numKvHeads = 2,
        int? headDim = null,
        int intermediateSize = 128,
        int vocabSize = 300,
        int maxPositionEmbeddings = 256,
        double ropeTheta = 10000.0) => new()
    {
        Architecture = architecture,
        VocabSize = vocabSize,
        HiddenSize = hiddenSize,
        IntermediateSize = intermediateSize,
        NumLayers = numLayers,
        NumHeads = numHeads,
        NumKvHeads = numKvHeads,
        HeadDim = headDim ?? hiddenSize / numHeads,
        RmsNormEps = 1e-5,
        RopeTheta = ropeTheta,
        RopeScaling = ropeScaling,
        TieWordEmbeddings = tieWordEmbeddings,
        AttentionBias = attentionBias || architecture == "Qwen2ForCausalLM",
        OutputProjectionBias = attentionBias && architecture != "Qwen2ForCausalLM",
        MaxPositionEmbeddings = maxPositionEmbeddings,
        BosTokenId = 1,
        EosTokenIds = [2],
    };

    /// <summary>The default Llama with GQA and separate lm_head.</summary>
    public static ModelConfig LlamaGqa() => DefaultConfig();

    /// <summary>The default Llama with lm_head tied to the embeddings.</summary>
    public static ModelConfig LlamaTied() => DefaultConfig(tieWordEmbeddings: true);

    /// <summary>Qwen2: q/k/v projection biases, tied embeddings, rope_theta 1e6.</summary>
    public static ModelConfig Qwen2WithBias(bool tieWordEmbeddings = true) =>
        DefaultConfig("Qwen2ForCausalLM", tieWordEmbeddings: tieWordEmbeddings, ropeTheta: 1_000_000.0);

    /// <summary>
    /// Llama 3 RoPE scaling with original_max_position_embeddings 64 so that, for head_dim 16, some frequencies
    /// are scaled, some interpolated and some left alone.
    /// </summary>
    public static ModelConfig Llama3RopeScaling() =>
        DefaultConfig(ropeScaling: new RopeScaling("llama3", 8.0, 1.0, 4.0, 64), ropeTheta: 500_000.0);

    /// <summary>
    /// Writes a complete model directory for <paramref name="config"/> into <paramref name="directory"/> (created
    /// when missing). Same seed, same bytes. With <paramref name="shardCount"/> the weights are split over that many
    /// model-0000i-of-0000n.safetensors files with a model.safetensors.index.json; otherwise one model.safetensors.
    /// <paramref name="identityBlocks"/> get zero output projections (o_proj and down_proj), so they pass their input
    /// through unchanged; the other weights are the same as without them. <paramref name="poisonedTokens"/> get NaN
    /// embedding rows: a sequence that contains one yields non-finite logits (a poison request for fault-isolation tests).
    /// </summary>
    public static void Write(
        string directory,
        ModelConfig config,
        int seed,
        torch.ScalarType dtype = torch.ScalarType.Float32,
        int? shardCount = null,
        JsonObject? generationConfig = null,
        IReadOnlyCollection<int>? identityBlocks = null,
        IReadOnlyCollection<int>? poisonedTokens = null)
    {
        Directory.CreateDirectory(directory);
        WriteJson(Path.Combine(directory, "config.json"), ConfigJson(config, dtype));
        WriteJson(Path.Combine(directory, "generation_config.json"), generationConfig ?? GenerationConfigJson(config));

        var tensors = RandomWeights(config, seed, dtype);
        foreach (int block in identityBlocks ?? [])
        {
            tensors[LlamaTensorNames.OProj(block)].zero_();
            tensors[LlamaTensorNames.DownProj(block)].zero_();
        }
        foreach (int token in poisonedTokens ?? [])
            tensors[LlamaTensorNames.Embedding][token].fill_(float.NaN);
        try
        {
            var metadata = new Dictionary<string, string> { ["format"] = "pt" };
            if (shardCount is null)
            {
                SafeTensorsWriter.Write(Path.Combine(directory, "model.safetensors"), tensors, metadata);
                return;
            }
            int shards = shardCount.Value;
            if (shards < 1 || shards > tensors.Count)
                throw new ArgumentOutOfRangeException(nameof(shardCount), $"must be between 1 and {tensors.Count}");
            var names = tensors.Keys.ToArray();
            var weightMap = new JsonObject();
            long totalSize = 0;
            for (int s = 0; s < shards; s++)
            {
                string file = $"model-{s + 1:D5}-of-{shards:D5}.safetensors";
                int begin = (int)((long)names.Length * s / shards), end = (int)((long)names.Length * (s + 1) / shards);
                var part = names[begin..end].ToDictionary(n => n, n => tensors[n]);
                SafeTensorsWriter.Write(Path.Combine(directory, file), part, metadata);
                foreach (var name in part.Keys)
                {
                    weightMap[name] = file;
                    totalSize += part[name].numel() * part[name].element_size();
                }
            }
            WriteJson(Path.Combine(directory, "model.safetensors.index.json"), new JsonObject
            {
                ["metadata"] = new JsonObject { ["total_size"] = totalSize },
                ["weight_map"] = weightMap,
            });
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>config.json as Hugging Face writes it for <paramref name="config"/>.</summary>
    public static JsonObject ConfigJson(ModelConfig config, torch.ScalarType dtype = torch.ScalarType.Float32) =>
        ModelConfigJson.Config(config, dtype);

    /// <summary>generation_config.json with the config's BOS/EOS ids (EOS as a list when there are several).</summary>
    public static JsonObject GenerationConfigJson(ModelConfig config) => ModelConfigJson.GenerationConfig(config);

    /// <summary>
    /// Deterministic random weights for <paramref name="config"/>, keyed by Hugging Face name, in
    /// <paramref name="dtype"/>. Projections have std 1/sqrt(fan_in) (o_proj and down_proj a further
    /// 1/sqrt(2·layers)) so activations stay O(1); embeddings and lm_head are scaled so that logits have a std of
    /// about 2; RMSNorm weights are 1 + N(0, 0.1²); biases N(0, 0.2²). Drawn from <see cref="Random"/>, so the
    /// values do not depend on the libtorch version. The caller disposes the tensors.
    /// </summary>
    public static Dictionary<string, torch.Tensor> RandomWeights(ModelConfig config, int seed, torch.ScalarType dtype = torch.ScalarType.Float32)
    {
        var random = new Random(seed);
        var result = new Dictionary<string, torch.Tensor>(StringComparer.Ordinal);
        double residualScale = 1.0 / Math.Sqrt(2.0 * config.NumLayers);
        double logitScale = 2.0 / Math.Sqrt(config.HiddenSize);
        foreach (var (name, shape) in LlamaTensorNames.Expected(config))
        {
            (double mean, double std) = name switch
            {
                LlamaTensorNames.Embedding => (0.0, config.TieWordEmbeddings ? logitScale : 1.0),
                LlamaTensorNames.LmHead => (0.0, logitScale),
                _ when name.EndsWith("norm.weight", StringComparison.Ordinal) => (1.0, 0.1),
                _ when name.EndsWith(".bias", StringComparison.Ordinal) => (0.0, 0.2),
                _ when name.EndsWith("o_proj.weight", StringComparison.Ordinal)
                       || name.EndsWith("down_proj.weight", StringComparison.Ordinal)
                    => (0.0, residualScale / Math.Sqrt(shape[1])),
                _ => (0.0, 1.0 / Math.Sqrt(shape[^1])),
            };
            long count = shape.Aggregate(1L, (a, b) => a * b);
            var values = new float[count];
            for (long i = 0; i < count; i++) values[i] = (float)(mean + std * Normal(random));
            using var f32 = torch.tensor(values, shape);
            result[name] = f32.to(dtype);
        }
        return result;
    }

    private static double Normal(Random random)
    {
        // Box–Muller; 1 - NextDouble() is in (0, 1], so the log is finite.
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private static void WriteJson(string path, JsonObject json) =>
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
}
