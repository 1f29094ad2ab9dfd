using System.Text;
using PdServe.Engine.Loading;
using TorchSharp;

namespace PdServe.Benchmarking;

/// <summary>
/// Deterministic random weights for a <see cref="ModelConfig"/>, under the Hugging Face tensor names, so speed can be
/// measured without a checkpoint. Each tensor is drawn from its own generator, seeded from the source's seed and the
/// tensor's name, so values do not depend on the order in which tensors are loaded.
/// Scales keep activations sane: norms are ~1, matrices (embeddings included) ~N(0, 1/fan_in), biases ~N(0, 0.02²).
/// </summary>
public sealed class RandomWeightSource : IWeightSource
{
    /// <summary>Shown as the "file" in <see cref="ModelLoadException"/>s from this source.</summary>
    public const string SourceName = "<random weights>";

    private readonly ModelConfig config;
    private readonly long seed;
    private readonly Dictionary<string, (long[] Shape, WeightKind Kind)> tensors;

    private readonly torch.ScalarType storedDtype;

    /// <param name="storedDtype">The dtype the weights pretend to be stored in; bf16 by default, as published
    /// checkpoints of the shapes in <see cref="ModelShapes"/> are. Values are drawn in it, so loading them in a
    /// wider dtype is exact.</param>
    public RandomWeightSource(ModelConfig config, long seed = 0, torch.ScalarType storedDtype = torch.ScalarType.BFloat16)
    {
        this.config = config;
        this.seed = seed;
        this.storedDtype = storedDtype;
        tensors = BuildTensorTable(config);
    }

    public ModelConfig Config => config;

    /// <summary>Every tensor name this source provides, with its shape.</summary>
    public IReadOnlyDictionary<string, long[]> Tensors => tensors.ToDictionary(kv => kv.Key, kv => kv.Value.Shape);

    public bool Contains(string name) => tensors.ContainsKey(name);

    public torch.ScalarType StoredDtype(string name) => storedDtype;

    public torch.Tensor Load(string name, long[] expectedShape, torch.ScalarType dtype)
    {
        if (!tensors.TryGetValue(name, out var entry))
            throw new ModelLoadException(SourceName, "no such tensor for this configuration", name);
        if (!entry.Shape.SequenceEqual(expectedShape))
            throw new ModelLoadException(SourceName,
                $"shape [{string.Join(", ", entry.Shape)}] does not match expected [{string.Join(", ", expectedShape)}]",
                name);
        if (dtype is not (torch.ScalarType.Float32 or torch.ScalarType.Float64 or torch.ScalarType.Float16 or torch.ScalarType.BFloat16))
            throw new ModelLoadException(SourceName, $"cannot make random weights of dtype {dtype}", name);

        using var generator = new torch.Generator(SeedFor(name));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        torch.Tensor result;
        switch (entry.Kind)
        {
            case WeightKind.Norm:
                // 1 + small noise: ~1 like trained norm weights, but not trivially all ones.
                result = torch.randn(entry.Shape, storedDtype, generator: generator).mul_(0.02).add_(1.0);
                break;
            case WeightKind.Matrix:
                result = torch.randn(entry.Shape, storedDtype, generator: generator).mul_(1.0 / Math.Sqrt(entry.Shape[^1]));
                break;
            case WeightKind.Bias:
                result = torch.randn(entry.Shape, storedDtype, generator: generator).mul_(0.02);
                break;
            default:
                throw new InvalidOperationException($"unknown weight kind {entry.Kind}");
        }
        return result.to(dtype).MoveToOuterDisposeScope();
    }

    private ulong SeedFor(string name)
    {
        // FNV-1a over the name, mixed with the seed (stable across processes, unlike string.GetHashCode).
        ulong hash = 14695981039346656037UL ^ (ulong)seed;
        foreach (byte b in Encoding.UTF8.GetBytes(name))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        // Keep it positive as a signed 64-bit value: some torch builds reject seeds above long.MaxValue.
        return hash & 0x7FFF_FFFF_FFFF_FFFFUL;
    }

    private enum WeightKind { Norm, Matrix, Bias }

    private static Dictionary<string, (long[], WeightKind)> BuildTensorTable(ModelConfig c)
    {
        long hidden = c.HiddenSize, inter = c.IntermediateSize, vocab = c.VocabSize;
        long qDim = (long)c.NumHeads * c.HeadDim, kvDim = (long)c.NumKvHeads * c.HeadDim;
        var t = new Dictionary<string, (long[], WeightKind)>
        {
            ["model.embed_tokens.weight"] = ([vocab, hidden], WeightKind.Matrix),
            ["model.norm.weight"] = ([hidden], WeightKind.Norm),
        };
        if (!c.TieWordEmbeddings)
            t["lm_head.weight"] = ([vocab, hidden], WeightKind.Matrix);

        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.";
            t[p + "input_layernorm.weight"] = ([hidden], WeightKind.Norm);
            t[p + "post_attention_layernorm.weight"] = ([hidden], WeightKind.Norm);
            t[p + "self_attn.q_proj.weight"] = ([qDim, hidden], WeightKind.Matrix);
            t[p + "self_attn.k_proj.weight"] = ([kvDim, hidden], WeightKind.Matrix);
            t[p + "self_attn.v_proj.weight"] = ([kvDim, hidden], WeightKind.Matrix);
            t[p + "self_attn.o_proj.weight"] = ([hidden, qDim], WeightKind.Matrix);
            if (c.AttentionBias)
            {
                t[p + "self_attn.q_proj.bias"] = ([qDim], WeightKind.Bias);
                t[p + "self_attn.k_proj.bias"] = ([kvDim], WeightKind.Bias);
                t[p + "self_attn.v_proj.bias"] = ([kvDim], WeightKind.Bias);
            }
            if (c.OutputProjectionBias)
                t[p + "self_attn.o_proj.bias"] = ([hidden], WeightKind.Bias);
            t[p + "mlp.gate_proj.weight"] = ([inter, hidden], WeightKind.Matrix);
            t[p + "mlp.up_proj.weight"] = ([inter, hidden], WeightKind.Matrix);
            t[p + "mlp.down_proj.weight"] = ([hidden, inter], WeightKind.Matrix);
            if (c.MlpBias)
            {
                t[p + "mlp.gate_proj.bias"] = ([inter], WeightKind.Bias);
                t[p + "mlp.up_proj.bias"] = ([inter], WeightKind.Bias);
                t[p + "mlp.down_proj.bias"] = ([hidden], WeightKind.Bias);
            }
        }
        return t;
    }
}
