using LlamaCppPeer.Gguf;
using PdServe.Engine.Loading;
using TorchSharp;

namespace LlamaCppPeer.Conversion;

/// <summary>What a conversion wrote: the file, its size, and each tensor's ggml type.</summary>
public sealed record GgufConversion(string Path, long Bytes, IReadOnlyList<(string Name, GgmlType Type, long Bytes)> Tensors)
{
    /// <summary>How many tensors of each type, e.g. "Q8_0 × 84, F32 × 25".</summary>
    public string TypeSummary => string.Join(", ", Tensors.GroupBy(t => t.Type).OrderByDescending(g => g.Count())
        .Select(g => $"{g.Key} × {g.Count()}"));
}

/// <summary>
/// Converts a Hugging Face Llama checkpoint into a GGUF that llama.cpp loads as its "llama" architecture: the
/// hyperparameters under llama.*, a vocabulary of placeholder tokens (the peer feeds token ids, so the vocabulary
/// only has to exist), and the tensors under llama.cpp's names, with q and k reordered for its RoPE.
/// </summary>
public static class LlamaGgufConverter
{
    /// <summary>
    /// llama.cpp's "none" tokenizer: no text handling at all, only <c>llama.vocab_size</c> placeholder tokens,
    /// which is all the peer needs to feed token ids and read logits.
    /// </summary>
    private const string NoVocabulary = "none";

    public static GgufConversion Convert(PeerModelSource source, WeightDtype dtype, string path)
    {
        ModelConfig config = source.Config;
        RejectUnsupported(config);
        GgufConversion? conversion = null;
        source.WithWeights(weights =>
        {
            var writer = new GgufWriter();
            AddMetadata(writer, config, dtype, source.Name);
            AddTensors(writer, config, weights, dtype);
            writer.WriteTo(path);
            conversion = new GgufConversion(path, new FileInfo(path).Length, writer.Tensors);
        });
        return conversion!;
    }

    /// <summary>What llama.cpp's llama architecture cannot express the same way; refused rather than run differently.</summary>
    private static void RejectUnsupported(ModelConfig config)
    {
        if (config.Architecture != "LlamaForCausalLM")
            throw new NotSupportedException($"the peer converts LlamaForCausalLM checkpoints, not {config.Architecture}");
        if (config.AttentionBias || config.OutputProjectionBias || config.MlpBias)
            throw new NotSupportedException("the peer converts Llama checkpoints without biases");
        if (config.RopeScaling is not null)
            throw new NotSupportedException($"the peer does not convert rope_scaling ({config.RopeScaling.Type})");
    }

    private static void AddMetadata(GgufWriter writer, ModelConfig config, WeightDtype dtype, string name)
    {
        writer.AddString("general.architecture", "llama");
        writer.AddString("general.name", name);
        writer.AddUInt32("general.file_type", dtype.LlamaFileType());
        // Required by the format as soon as one tensor is quantized; 2 is ggml's current Q8_0 scheme.
        if (dtype == WeightDtype.Q8_0) writer.AddUInt32("general.quantization_version", 2);
        writer.AddUInt32("llama.vocab_size", (uint)config.VocabSize);
        writer.AddUInt32("llama.context_length", (uint)config.MaxPositionEmbeddings);
        writer.AddUInt32("llama.embedding_length", (uint)config.HiddenSize);
        writer.AddUInt32("llama.block_count", (uint)config.NumLayers);
        writer.AddUInt32("llama.feed_forward_length", (uint)config.IntermediateSize);
        writer.AddUInt32("llama.attention.head_count", (uint)config.NumHeads);
        writer.AddUInt32("llama.attention.head_count_kv", (uint)config.NumKvHeads);
        // Written out because head_dim need not be hidden / heads (llama.cpp's default when the keys are absent).
        writer.AddUInt32("llama.attention.key_length", (uint)config.HeadDim);
        writer.AddUInt32("llama.attention.value_length", (uint)config.HeadDim);
        writer.AddUInt32("llama.rope.dimension_count", (uint)config.HeadDim);
        writer.AddFloat32("llama.rope.freq_base", (float)config.RopeTheta);
        writer.AddFloat32("llama.attention.layer_norm_rms_epsilon", (float)config.RmsNormEps);
        writer.AddString("tokenizer.ggml.model", NoVocabulary);
    }

    private static void AddTensors(GgufWriter writer, ModelConfig config, IWeightSource weights, WeightDtype dtype)
    {
        int hidden = config.HiddenSize, inter = config.IntermediateSize, vocab = config.VocabSize;
        int qRows = config.NumHeads * config.HeadDim, kvRows = config.NumKvHeads * config.HeadDim;

        void Matrix(string gguf, string hf, int rows, int columns, Func<float[], float[]>? reorder = null)
        {
            // A row that is not whole Q8_0 blocks (e.g. stories260k's 172-wide down projection) stays f16, as
            // llama.cpp's HF converter falls back for such tensors.
            GgmlType type = GgmlTypeSizes.Fits(dtype.MatrixType(), columns) ? dtype.MatrixType() : GgmlType.F16;
            writer.AddTensor(gguf, [columns, rows], type, () =>
            {
                float[] values = ReadFloat32(weights, hf, [rows, columns]);
                return GgmlTensorEncoder.Encode(reorder is null ? values : reorder(values), columns, type);
            });
        }

        void Norm(string gguf, string hf) =>
            writer.AddTensor(gguf, [hidden], GgmlType.F32, () => GgmlTensorEncoder.Encode(ReadFloat32(weights, hf, [hidden]), hidden, GgmlType.F32));

        Matrix("token_embd.weight", LlamaTensorNames.Embedding, vocab, hidden);
        for (int i = 0; i < config.NumLayers; i++)
        {
            string block = $"blk.{i}";
            Norm($"{block}.attn_norm.weight", LlamaTensorNames.InputNorm(i));
            Matrix($"{block}.attn_q.weight", LlamaTensorNames.QProj(i), qRows, hidden,
                w => LlamaRopePermutation.Apply(w, config.NumHeads, config.HeadDim, hidden));
            Matrix($"{block}.attn_k.weight", LlamaTensorNames.KProj(i), kvRows, hidden,
                w => LlamaRopePermutation.Apply(w, config.NumKvHeads, config.HeadDim, hidden));
            Matrix($"{block}.attn_v.weight", LlamaTensorNames.VProj(i), kvRows, hidden);
            Matrix($"{block}.attn_output.weight", LlamaTensorNames.OProj(i), hidden, qRows);
            Norm($"{block}.ffn_norm.weight", LlamaTensorNames.PostAttentionNorm(i));
            Matrix($"{block}.ffn_gate.weight", LlamaTensorNames.GateProj(i), inter, hidden);
            Matrix($"{block}.ffn_up.weight", LlamaTensorNames.UpProj(i), inter, hidden);
            Matrix($"{block}.ffn_down.weight", LlamaTensorNames.DownProj(i), hidden, inter);
        }
        Norm("output_norm.weight", LlamaTensorNames.FinalNorm);
        // Tied embeddings: llama.cpp uses token_embd as the output projection when "output" is absent.
        if (!config.TieWordEmbeddings) Matrix("output.weight", LlamaTensorNames.LmHead, vocab, hidden);
    }

    private static float[] ReadFloat32(IWeightSource weights, string name, long[] shape)
    {
        using torch.Tensor tensor = weights.Load(name, shape, torch.ScalarType.Float32);
        using torch.Tensor contiguous = tensor.contiguous();
        return contiguous.data<float>().ToArray();
    }
}
