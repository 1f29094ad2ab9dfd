using PdServe.Engine.Loading;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Loading;

public sealed class TinyCheckpointTests
{
    [Fact]
    public void SameSeedSameBytesOtherSeedOtherBytes()
    {
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        using var c = new TempDirectory();
        TinyCheckpoint.Write(a.Path, TinyCheckpoint.LlamaGqa(), seed: 42);
        TinyCheckpoint.Write(b.Path, TinyCheckpoint.LlamaGqa(), seed: 42);
        TinyCheckpoint.Write(c.Path, TinyCheckpoint.LlamaGqa(), seed: 43);
        byte[] wa = File.ReadAllBytes(Path.Combine(a.Path, "model.safetensors"));
        Assert.Equal(wa, File.ReadAllBytes(Path.Combine(b.Path, "model.safetensors")));
        Assert.NotEqual(wa, File.ReadAllBytes(Path.Combine(c.Path, "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(a.Path, "tokenizer.json")));
    }

    [Fact]
    public void WeightScalesKeepActivationsOrderOne()
    {
        var config = TinyCheckpoint.LlamaGqa();
        var weights = TinyCheckpoint.RandomWeights(config, seed: 1);
        try
        {
            double Std(string name) => weights[name].std().item<float>();
            double Mean(string name) => weights[name].mean().item<float>();
            Assert.InRange(Std(LlamaTensorNames.Embedding), 0.9, 1.1);
            Assert.InRange(Std(LlamaTensorNames.LmHead), 0.22, 0.28);             // 2 / sqrt(64)
            Assert.InRange(Std(LlamaTensorNames.QProj(0)), 0.11, 0.14);            // 1 / sqrt(64)
            Assert.InRange(Std(LlamaTensorNames.DownProj(0)), 0.025, 0.04);        // 1 / sqrt(128) / sqrt(8)
            Assert.InRange(Mean(LlamaTensorNames.InputNorm(0)), 0.95, 1.05);
            Assert.InRange(Std(LlamaTensorNames.InputNorm(0)), 0.05, 0.15);        // near 1 but not all 1

            // Logits of a unit-RMS hidden state: spread out (std about 2) without being degenerate.
            using var gen = new Generator(3);
            using var h = randn([16, 64], generator: gen);
            using var logits = h.matmul(weights[LlamaTensorNames.LmHead].t());
            Assert.InRange(logits.std().item<float>(), 1.5, 2.5);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32, "F32")]
    [InlineData(ScalarType.BFloat16, "BF16")]
    [InlineData(ScalarType.Float16, "F16")]
    public void WritesTheRequestedDtype(ScalarType dtype, string stored)
    {
        using var dir = new TempDirectory();
        TinyCheckpoint.Write(dir.Path, TinyCheckpoint.Llama3RopeScaling(), seed: 1, dtype: dtype);
        var model = ModelDirectory.Open(dir.Path);
        Assert.Equal("llama3", model.Config.RopeScaling!.Type);
        Assert.Equal(64, model.Config.RopeScaling.OriginalMaxPositionEmbeddings);
        using var weights = model.OpenWeights();
        Assert.All(weights.TensorNames, n => Assert.Equal(stored, weights.GetInfo(n).DType));
    }

    [Fact]
    public void TiedAndUntiedDifferOnlyInLmHead()
    {
        var tied = LlamaTensorNames.Expected(TinyCheckpoint.LlamaTied()).Select(e => e.Name).ToList();
        var untied = LlamaTensorNames.Expected(TinyCheckpoint.LlamaGqa()).Select(e => e.Name).ToList();
        Assert.Equal(["lm_head.weight"], untied.Except(tied));
        Assert.Empty(tied.Except(untied));
        Assert.Equal(1 + 4 * 9 + 1 + 1, untied.Count);
    }
}
