using PdServe.Benchmarking;
using PdServe.Engine.Loading;
using PdServe.TestSupport;
using TorchSharp;

namespace PdServe.Cli.Tests;

public class RandomWeightSourceTests
{
    private static ModelConfig Tiny(bool tied = true, bool attentionBias = false, bool outputBias = false, bool mlpBias = false) =>
        TinyCheckpoint.DefaultConfig(tieWordEmbeddings: tied, numLayers: 2, intermediateSize: 96, vocabSize: 128)
            with { AttentionBias = attentionBias, OutputProjectionBias = outputBias, MlpBias = mlpBias };

    [Fact]
    public void Smollm2_shape_is_registered()
    {
        var c = ModelShapes.Get("smollm2-135m");
        Assert.Equal("LlamaForCausalLM", c.Architecture);
        Assert.Equal((30, 576, 9, 3, 64, 1536, 49152), (c.NumLayers, c.HiddenSize, c.NumHeads, c.NumKvHeads, c.HeadDim, c.IntermediateSize, c.VocabSize));
        Assert.True(c.TieWordEmbeddings);
        Assert.Equal(100000.0, c.RopeTheta);
        Assert.Equal(1e-5, c.RmsNormEps);
        Assert.Equal(8192, c.MaxPositionEmbeddings);
        Assert.False(ModelShapes.TryGet("nope", out _));
        Assert.Throws<ArgumentException>(() => ModelShapes.Get("nope"));
    }

    [Fact]
    public void Contains_follows_tying_and_biases()
    {
        var tied = new RandomWeightSource(Tiny());
        Assert.True(tied.Contains("model.embed_tokens.weight"));
        Assert.True(tied.Contains("model.norm.weight"));
        Assert.True(tied.Contains("model.layers.1.self_attn.q_proj.weight"));
        Assert.True(tied.Contains("model.layers.1.mlp.down_proj.weight"));
        Assert.False(tied.Contains("model.layers.2.self_attn.q_proj.weight"));
        Assert.False(tied.Contains("lm_head.weight"));
        Assert.False(tied.Contains("model.layers.0.self_attn.q_proj.bias"));
        Assert.False(tied.Contains("model.layers.0.self_attn.o_proj.bias"));
        Assert.False(tied.Contains("model.layers.0.mlp.up_proj.bias"));

        var untied = new RandomWeightSource(Tiny(tied: false, attentionBias: true, mlpBias: true));
        Assert.True(untied.Contains("lm_head.weight"));
        Assert.True(untied.Contains("model.layers.0.self_attn.q_proj.bias"));
        Assert.True(untied.Contains("model.layers.0.self_attn.v_proj.bias"));
        Assert.False(untied.Contains("model.layers.0.self_attn.o_proj.bias")); // Qwen2-style: q/k/v only
        Assert.True(untied.Contains("model.layers.0.mlp.gate_proj.bias"));
        Assert.True(new RandomWeightSource(Tiny(outputBias: true)).Contains("model.layers.0.self_attn.o_proj.bias"));
    }

    [Theory]
    [InlineData(torch.ScalarType.Float32)]
    [InlineData(torch.ScalarType.BFloat16)]
    public void Loads_expected_shapes_and_dtype(torch.ScalarType dtype)
    {
        var source = new RandomWeightSource(Tiny(tied: false, attentionBias: true, outputBias: true, mlpBias: true));
        var expected = new Dictionary<string, long[]>
        {
            ["model.embed_tokens.weight"] = [128, 64],
            ["lm_head.weight"] = [128, 64],
            ["model.norm.weight"] = [64],
            ["model.layers.0.input_layernorm.weight"] = [64],
            ["model.layers.0.self_attn.q_proj.weight"] = [64, 64],
            ["model.layers.0.self_attn.k_proj.weight"] = [32, 64],
            ["model.layers.0.self_attn.v_proj.bias"] = [32],
            ["model.layers.0.self_attn.o_proj.weight"] = [64, 64],
            ["model.layers.1.mlp.gate_proj.weight"] = [96, 64],
            ["model.layers.1.mlp.down_proj.weight"] = [64, 96],
            ["model.layers.1.mlp.down_proj.bias"] = [64],
        };
        foreach (var (name, shape) in expected)
        {
            using var t = source.Load(name, shape, dtype);
            Assert.Equal(shape, t.shape);
            Assert.Equal(dtype, t.dtype);
            Assert.True(t.isfinite().all().item<bool>(), name);
        }
        Assert.Equal(3 + 2 * 16, source.Tensors.Count); // embed, norm, lm_head + 16 per layer
    }

    [Fact]
    public void Deterministic_for_a_seed_and_independent_of_load_order()
    {
        var config = Tiny();
        const string name = "model.layers.1.self_attn.q_proj.weight";
        long[] shape = [64, 64];
        var a = new RandomWeightSource(config, seed: 7);
        var b = new RandomWeightSource(config, seed: 7);
        using var other = b.Load("model.embed_tokens.weight", [128, 64], torch.ScalarType.Float32); // different order
        using var ta = a.Load(name, shape, torch.ScalarType.Float32);
        using var tb = b.Load(name, shape, torch.ScalarType.Float32);
        using var tc = new RandomWeightSource(config, seed: 8).Load(name, shape, torch.ScalarType.Float32);
        using var td = a.Load("model.layers.0.self_attn.q_proj.weight", shape, torch.ScalarType.Float32);
        Assert.True(ta.eq(tb).all().item<bool>());
        Assert.False(ta.eq(tc).all().item<bool>());
        Assert.False(ta.eq(td).all().item<bool>());
    }

    [Fact]
    public void Scales_are_sane()
    {
        var source = new RandomWeightSource(Tiny());
        using var norm = source.Load("model.norm.weight", [64], torch.ScalarType.Float32);
        Assert.InRange(norm.mean().item<float>(), 0.95f, 1.05f);
        using var proj = source.Load("model.layers.0.mlp.down_proj.weight", [64, 96], torch.ScalarType.Float32);
        double expectedStd = 1 / Math.Sqrt(96);
        Assert.InRange(proj.std().item<float>(), expectedStd * 0.85, expectedStd * 1.15);
    }

    [Fact]
    public void Wrong_shape_or_unknown_name_is_a_model_load_error()
    {
        var source = new RandomWeightSource(Tiny());
        var e = Assert.Throws<ModelLoadException>(() => source.Load("model.norm.weight", [65], torch.ScalarType.Float32));
        Assert.Equal("model.norm.weight", e.Tensor);
        Assert.Throws<ModelLoadException>(() => source.Load("lm_head.weight", [128, 64], torch.ScalarType.Float32));
    }

    [Fact]
    public void Fills_smollm2_sized_embeddings()
    {
        var c = ModelShapes.Get("smollm2-135m");
        using var t = new RandomWeightSource(c).Load("model.embed_tokens.weight", [c.VocabSize, c.HiddenSize], torch.ScalarType.BFloat16);
        Assert.Equal(new long[] { 49152, 576 }, t.shape);
    }
}
