using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Model;

public class BlockSkippingTests
{
    [Fact]
    public void Skipping_blocks_equals_a_checkpoint_with_those_blocks_deleted_and_renumbered()
    {
        ModelConfig config = TinyCheckpoint.DefaultConfig(numLayers: 5);
        using var full = new TempDirectory();
        using var deleted = new TempDirectory();
        TinyCheckpoint.Write(full.Path, config, seed: 21);
        int[] skipped = [1, 3];
        int[] kept = [0, 2, 4];
        WriteWithBlocksDeleted(full.Path, deleted.Path, config, kept);

        using CausalLm skipping = TinyModels.LoadFrom(full.Path, skip: skipped.ToHashSet());
        using CausalLm smaller = TinyModels.LoadFrom(deleted.Path);
        Assert.Equal(kept, skipping.Plan.RunBlocks);
        Assert.Equal(3, smaller.Config.NumLayers);

        int[] tokens = TinyModels.RandomTokens(12, config.VocabSize, seed: 4);
        using Tensor a = TinyModels.FullLogits(skipping, tokens);
        using Tensor b = TinyModels.FullLogits(smaller, tokens);
        Assert.Equal(0f, TinyModels.MaxAbsDifference(a, b));

        using var cacheA = skipping.CreateCache(1, 32);
        using var cacheB = smaller.CreateCache(1, 32);
        using Tensor prefillA = skipping.Prefill(tokens, cacheA, 0);
        using Tensor prefillB = smaller.Prefill(tokens, cacheB, 0);
        Assert.Equal(0f, TinyModels.MaxAbsDifference(prefillA, prefillB));
        using Tensor stepA = skipping.DecodeStep([9], [tokens.Length], cacheA);
        using Tensor stepB = smaller.DecodeStep([9], [tokens.Length], cacheB);
        Assert.Equal(0f, TinyModels.MaxAbsDifference(stepA, stepB));
    }

    [Fact]
    public void Skipped_blocks_are_never_read()
    {
        ModelConfig config = TinyCheckpoint.DefaultConfig(numLayers: 4);
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, config, seed: 2);
        using SafeTensorsCheckpoint checkpoint = SafeTensorsCheckpoint.Open(directory.Path);
        var recording = new RecordingWeightSource(checkpoint);
        using CausalLm model = CausalLm.Load(config, recording, new ModelLoadOptions { SkippedBlocks = new HashSet<int> { 0, 2 } });
        Assert.DoesNotContain(recording.Requested, name => name.StartsWith("model.layers.0.") || name.StartsWith("model.layers.2."));
        Assert.Contains(recording.Requested, name => name.StartsWith("model.layers.3."));
        Assert.Equal([1, 3], model.Blocks.Select(b => b.Index));
    }

    [Theory]
    [InlineData(new[] { 4 })]
    [InlineData(new[] { -1 })]
    [InlineData(new[] { 0, 1, 2, 3 })]
    public void Invalid_skip_sets_are_refused(int[] skip)
    {
        Assert.Throws<ArgumentException>(() => new LayerPlan(4, skip.ToHashSet()));
    }

    private static void WriteWithBlocksDeleted(string source, string destination, ModelConfig config, int[] kept)
    {
        TinyCheckpoint.Write(destination, config with { NumLayers = kept.Length }, seed: 0);
        using SafeTensorsFile original = SafeTensorsFile.Open(Path.Combine(source, "model.safetensors"));
        var renamed = new Dictionary<string, Tensor>();
        foreach (string name in original.TensorNames)
        {
            string newName = name;
            if (name.StartsWith("model.layers."))
            {
                int block = int.Parse(name.Split('.')[2]);
                int newIndex = Array.IndexOf(kept, block);
                if (newIndex < 0) continue;
                newName = $"model.layers.{newIndex}." + string.Join('.', name.Split('.')[3..]);
            }
            renamed[newName] = original.Load(name);
        }
        SafeTensorsWriter.Write(Path.Combine(destination, "model.safetensors"), renamed);
        foreach (Tensor t in renamed.Values) t.Dispose();
    }

    private sealed class RecordingWeightSource(IWeightSource inner) : IWeightSource
    {
        public List<string> Requested { get; } = [];
        public bool Contains(string name) => inner.Contains(name);
        public ScalarType StoredDtype(string name) => inner.StoredDtype(name);

        public Tensor Load(string name, long[] expectedShape, ScalarType dtype)
        {
            Requested.Add(name);
            return inner.Load(name, expectedShape, dtype);
        }
    }
}
