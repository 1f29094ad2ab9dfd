using PdServe.Engine.Loading;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Loading;

/// <summary>The real stories260k checkpoint from ../shared (skipped when it is not there).</summary>
public sealed class Stories260kTests
{
    [RequiresSharedModelFact]
    public void LoadsAllTensorsWithTheExpectedShapes()
    {
        var model = ModelDirectory.Open(SharedModels.Stories260kPath);
        var c = model.Config;
        Assert.Equal("LlamaForCausalLM", c.Architecture);
        Assert.Equal((64, 172, 5, 8, 4, 8, 512), (c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKvHeads, c.HeadDim, c.VocabSize));
        Assert.True(c.TieWordEmbeddings);
        Assert.Equal(1, model.BosTokenId);
        Assert.Equal([2], model.EosTokenIds);
        Assert.True(model.HasTokenizerJson);

        using var weights = model.OpenWeights();
        var expected = LlamaTensorNames.Expected(c);
        Assert.Equal(expected.Select(e => e.Name).Order(StringComparer.Ordinal), weights.TensorNames);
        foreach (var (name, shape) in expected)
        {
            using var t = weights.Load(name, shape, ScalarType.Float32);
            Assert.Equal(shape, t.shape);
            Assert.True(t.isfinite().all().item<bool>(), name);
            Assert.True(t.abs().sum().item<float>() > 0, name);
        }
        Assert.Matches("^[0-9a-f]{64}$", model.Fingerprint);
    }
}
