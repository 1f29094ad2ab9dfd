using PdServe.Engine;
using PdServe.Engine.Model;
using PdServe.Engine.Planning;
using PdServe.Pruning.Evaluation;
using PdServe.Pruning.Healing;
using PdServe.TestSupport;
using PdServe.Training.Corpus;
using static TorchSharp.torch;

namespace PdServe.Pruning.Tests.Healing;

public sealed class StageHealerTests : IDisposable
{
    private readonly TempDirectory directory = new();

    public void Dispose() => directory.Dispose();

    private (LoadedModel Teacher, TextDocuments Data) Setup()
    {
        TinyTokenizer.WriteModel(directory.Combine("model"), TinyCheckpoint.DefaultConfig(numLayers: 4), seed: 21);
        string text = directory.Combine("heal.txt");
        File.WriteAllText(text, string.Join("\n\n", Enumerable.Range(0, 12).Select(i =>
            $"and the {i} waters under the heaven were gathered together unto one place and the dry land appeared {i}")));
        return (PruningModel.Load(directory.Combine("model")), TextDocuments.Read(text));
    }

    private static float[] Weights(CausalLm model, int block) =>
        model.Blocks.Single(b => b.Index == block).parameters().SelectMany(p => p.detach().reshape(-1).data<float>().ToArray()).ToArray();

    [Fact]
    public void Healing_lowers_the_held_back_kl_and_trains_only_each_stage_s_kept_blocks()
    {
        (LoadedModel teacher, TextDocuments data) = Setup();
        using var _ = teacher;
        var pruning = new StagedPruning(new HashSet<int> { 1 }, new HashSet<int> { 1, 2 }, new KvPolicy([3], 2, 2, KvWireDtype.Float32));
        var options = new HealingOptions { MaxSteps = 40, Minutes = 0, WindowTokens = 16, PromptTokens = 8, BatchSize = 4, LearningRate = 3e-3, WarmupSteps = 2, HeldShare = 0.25 };

        using HealingResult result = StageHealer.Heal(teacher, directory.Combine("model"), pruning, data, options);

        Assert.Equal(40, result.Steps);
        Assert.True(result.HeldLossBefore > 0, $"before {result.HeldLossBefore}");
        Assert.True(result.HeldLossAfter < 0.8 * result.HeldLossBefore, $"held-back KL {result.HeldLossBefore} -> {result.HeldLossAfter}");
        // A block a stage skips keeps the base weights in that stage's copy; the kept ones moved.
        Assert.Equal(Weights(teacher.Model, 1), Weights(result.Models.Prefill, 1));
        Assert.Equal(Weights(teacher.Model, 1), Weights(result.Models.Decode, 1));
        Assert.Equal(Weights(teacher.Model, 2), Weights(result.Models.Decode, 2));
        Assert.NotEqual(Weights(teacher.Model, 2), Weights(result.Models.Prefill, 2));
        Assert.NotEqual(Weights(teacher.Model, 0), Weights(result.Models.Decode, 0));
        // Embeddings are shared by both stages and the base model: untouched.
        Assert.True(teacher.Model.parameters().First().allclose(result.Models.Prefill.parameters().First()));
        // Rounded to bfloat16 as the nodes will hold them.
        using Tensor kept = result.Models.Decode.Blocks.Single(b => b.Index == 0).parameters().First().detach();
        Assert.True(kept.equal(kept.to(ScalarType.BFloat16).to(ScalarType.Float32)).all().item<bool>());
    }

    [Fact]
    public void The_same_seed_heals_to_the_same_weights_and_too_little_text_is_refused()
    {
        (LoadedModel teacher, TextDocuments data) = Setup();
        using var _ = teacher;
        var pruning = StagedPruning.Uniform([2]);
        var options = new HealingOptions { MaxSteps = 3, Minutes = 0, WindowTokens = 16, PromptTokens = 8, BatchSize = 2, Seed = 4 };
        using HealingResult first = StageHealer.Heal(teacher, directory.Combine("model"), pruning, data, options);
        using HealingResult second = StageHealer.Heal(teacher, directory.Combine("model"), pruning, data, options);
        Assert.Equal(Weights(first.Models.Decode, 0), Weights(second.Models.Decode, 0));

        Assert.Throws<PruningInputException>(() => StageHealer.Heal(teacher, directory.Combine("model"), pruning, data,
            options with { SkipLeadingTokens = 100_000 }));
        Assert.Throws<PruningInputException>(() => StageHealer.Heal(teacher, directory.Combine("model"), pruning, data,
            options with { PromptTokens = 15 }));
    }
}
