using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.Engine.Planning;
using PdServe.Pruning.Evaluation;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Pruning.Tests.Evaluation;

/// <summary>
/// The one-pass staged scoring must equal what the deployment does step by step: a prefill model prefills the
/// prompt, its KV moves to the decode model (cut to first/last positions in the selected layers), and the decode
/// model decodes one token at a time.
/// </summary>
public class StagedForwardTests
{
    private const int PromptLength = 10;
    private const int ContinuationLength = 6;

    [Theory]
    [InlineData(new int[0], new int[0], new int[0])]
    [InlineData(new[] { 1 }, new[] { 1, 3 }, new int[0])]
    [InlineData(new[] { 1 }, new[] { 1, 3 }, new[] { 2, 4 })]
    [InlineData(new int[0], new[] { 0 }, new[] { 1, 2, 3, 4 })]
    public void One_pass_equals_prefill_then_decode_steps_with_retained_entries(int[] prefillSkip, int[] decodeSkip, int[] kvLayers)
    {
        ModelConfig config = TinyCheckpoint.DefaultConfig(numLayers: 5);
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, config, seed: 31);
        var policy = new KvPolicy(kvLayers, First: 2, Last: 3, KvWireDtype.Float32);
        var pruning = new StagedPruning(prefillSkip.ToHashSet(), decodeSkip.ToHashSet(), policy);
        int[] sequence = TinyModels.RandomTokens(PromptLength + ContinuationLength, config.VocabSize, seed: 5);

        using CausalLm full = TinyModels.LoadFrom(directory.Path);
        using Tensor ids = tensor(sequence.Select(t => (long)t).ToArray(), [1, sequence.Length]);
        using Tensor staged = new StagedForward(full).ContinuationLogits(ids, PromptLength, pruning);
        Assert.Equal([1L, ContinuationLength, config.VocabSize], staged.shape);

        using CausalLm prefillModel = TinyModels.LoadFrom(directory.Path, skip: pruning.PrefillSkip);
        using CausalLm decodeModel = TinyModels.LoadFrom(directory.Path, skip: pruning.DecodeSkip);
        using var prefillCache = prefillModel.CreateCache(1, 64);
        using var decodeCache = decodeModel.CreateCache(1, 64);
        using Tensor first = prefillModel.Prefill(sequence[..PromptLength], prefillCache, 0);
        AssertClose(first, staged[0, 0], "first continuation token (prefill)");
        foreach (int block in decodeModel.Plan.RunBlocks)
        {
            (Tensor keys, Tensor values) = prefillCache.Read(0, block);
            decodeCache.Write(0, block, keys, values);
            keys.Dispose();
            values.Dispose();
            if (kvLayers.Contains(block)) decodeCache.RetainEntries(0, block, policy.KeptPositions(block, PromptLength));
        }
        for (int i = 1; i < ContinuationLength; i++)
        {
            int position = PromptLength + i - 1;
            using Tensor step = decodeModel.DecodeStep([sequence[position]], [position], decodeCache);
            AssertClose(step[0], staged[0, i], $"continuation token {i} (decode step)");
        }
    }

    [Fact]
    public void Unpruned_staged_logits_equal_the_whole_sequence_forward()
    {
        ModelConfig config = TinyCheckpoint.LlamaTied();
        using CausalLm model = TinyModels.Load(config, seed: 3);
        int[] sequence = TinyModels.RandomTokens(20, config.VocabSize, seed: 6);
        using Tensor ids = tensor(sequence.Select(t => (long)t).ToArray(), [1, sequence.Length]);
        using Tensor staged = new StagedForward(model).ContinuationLogits(ids, 7, StagedPruning.Unpruned);
        using Tensor whole = TinyModels.FullLogits(model, sequence);
        AssertClose(whole.narrow(0, 6, 13), staged[0], "whole-sequence forward");
    }

    [Fact]
    public void A_decode_stage_that_runs_a_block_prefill_skipped_is_refused()
    {
        ModelConfig config = TinyCheckpoint.DefaultConfig();
        using CausalLm model = TinyModels.Load(config, seed: 3);
        using Tensor ids = tensor(TinyModels.RandomTokens(8, config.VocabSize, 1).Select(t => (long)t).ToArray(), [1, 8]);
        var broken = new StagedPruning(new HashSet<int> { 2 }, new HashSet<int> { 1 }, KvPolicy.KeepAll);
        var error = Assert.Throws<ArgumentException>(() => new StagedForward(model).ContinuationLogits(ids, 4, broken));
        Assert.Contains("subset", error.Message);
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        float difference = TinyModels.MaxAbsDifference(expected, actual);
        Assert.True(difference < 1e-4f, $"{what}: differs by {difference}");
    }
}
