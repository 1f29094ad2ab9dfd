using PdServe.Engine.Model;
using PdServe.Engine.Planning;
using PdServe.Pruning.Calibration;
using PdServe.Pruning.KvSelection;
using PdServe.Pruning.Search;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Pruning.Tests.Search;

public class ObjectiveTests
{
    [Fact]
    public void The_plan_objectives_equal_a_direct_recomputation_with_separately_loaded_stage_models()
    {
        using var fixture = new SearchFixture(numLayers: 5, seed: 29);
        PruneOutcome outcome = fixture.Search(1, 3, kv: KvLayerRequest.None);
        PrunePlan plan = outcome.Plan;
        using CausalLm full = TinyModels.LoadFrom(fixture.ModelPath);
        using CausalLm prefillModel = TinyModels.LoadFrom(fixture.ModelPath, skip: plan.PrefillSkipSet);
        using CausalLm decodeModel = TinyModels.LoadFrom(fixture.ModelPath, skip: plan.DecodeSkipSet);
        using CalibrationSet samples = CalibrationSet.Build(fixture.Model, fixture.Calibration, SearchFixture.SmallCalibration);
        int prompt = samples.PromptTokens, total = samples.Options.SampleTokens;

        double prefillKl = 0, decodeKl = 0;
        long prefillCount = 0, decodeCount = 0;
        foreach (Tensor batch in samples.Batches)
        {
            for (int row = 0; row < batch.shape[0]; row++)
            {
                int[] tokens = batch[row].data<long>().Select(t => (int)t).ToArray();
                using Tensor reference = TinyModels.FullLogits(full, tokens).log_softmax(-1);
                using Tensor prefillLogits = TinyModels.FullLogits(prefillModel, tokens[..prompt]).log_softmax(-1);
                prefillKl += Kl(reference.narrow(0, 0, prompt), prefillLogits);
                prefillCount += prompt;

                using var prefillCache = prefillModel.CreateCache(1, total);
                using var decodeCache = decodeModel.CreateCache(1, total);
                prefillModel.Prefill(tokens[..prompt], prefillCache, 0).Dispose();
                foreach (int block in decodeModel.Plan.RunBlocks)
                {
                    (Tensor keys, Tensor values) = prefillCache.Read(0, block);
                    decodeCache.Write(0, block, keys, values);
                    keys.Dispose();
                    values.Dispose();
                }
                for (int position = prompt; position < total - 1; position++)
                {
                    using Tensor step = decodeModel.DecodeStep([tokens[position]], [position], decodeCache).log_softmax(-1);
                    decodeKl += Kl(reference.narrow(0, position, 1), step);
                    decodeCount++;
                }
            }
        }
        Assert.Equal(prefillKl / prefillCount, outcome.Evidence.PrefillAnnealing.BestObjective, 4);
        Assert.Equal(decodeKl / decodeCount, outcome.Evidence.DecodeAnnealing.BestObjective, 4);
        Assert.Equal(outcome.Evidence.DecodeAnnealing.BestObjective, plan.Scores!["decode"]!["objective"]!.GetValue<double>());
        Assert.True(decodeKl > 0);
    }

    private static double Kl(Tensor referenceLogProbabilities, Tensor logProbabilities)
    {
        using Tensor kl = (referenceLogProbabilities.exp() * (referenceLogProbabilities - logProbabilities)).sum();
        return kl.item<float>();
    }

    [Fact]
    public void ShortGpt_ranking_is_the_blocks_sorted_by_block_influence_with_ties_to_the_lower_index()
    {
        BlockSimilarity[] similarities =
        [
            new(0, 0.5, 0.5, 0.90), new(1, 0.5, 0.5, 0.99), new(2, 0.5, 0.5, 0.95), new(3, 0.5, 0.5, 0.99), new(4, 0.5, 0.5, 0.70),
        ];
        Assert.Equal([1, 3, 2, 0, 4], ShortGptBaseline.Ranking(similarities));
        Assert.Equal(new HashSet<int> { 1, 3 }, ShortGptBaseline.Remove(similarities, 2));

        using var fixture = new SearchFixture(numLayers: 4, seed: 41);
        PruneOutcome outcome = fixture.Search(0, 1, kv: KvLayerRequest.None);
        double[] influences = outcome.Evidence.ShortGptRanking.Select(b => outcome.Evidence.Similarities[b].BlockInfluence).ToArray();
        Assert.Equal(influences.Order(), influences);
    }

    [Fact]
    public void Greedy_remeasures_after_each_removal_and_annealing_finds_the_optimum_keeping_fixed_blocks()
    {
        // Removing 0 alone is cheapest, but 0 and 1 together are costly: re-measuring after the first removal avoids the pair.
        double Objective(IReadOnlySet<int> removed) =>
            removed.Sum(b => new[] { 1.0, 2.0, 3.0, 4.0, 5.0 }[b]) + (removed.Contains(0) && removed.Contains(1) ? 10 : 0);
        (IReadOnlySet<int> greedy, var steps) = GreedyRemoval.Run(new HashSet<int>(), [0, 1, 2, 3, 4], 2, Objective);
        Assert.Equal(new HashSet<int> { 0, 2 }, greedy);
        Assert.Equal([0, 2], steps.Select(s => s.Block));
        Assert.Equal(13.0, steps[1].Candidates[1]);

        // From a poor start, with block 4 fixed: the best 3-set containing 4 is {0, 2, 4}.
        var first = SimulatedAnnealing.Refine(new HashSet<int> { 3, 4, 1 }, new HashSet<int> { 4 }, [0, 1, 2, 3, 4], 200, seed: 7, Objective);
        var second = SimulatedAnnealing.Refine(new HashSet<int> { 3, 4, 1 }, new HashSet<int> { 4 }, [0, 1, 2, 3, 4], 200, seed: 7, Objective);
        Assert.Equal(new HashSet<int> { 0, 2, 4 }, first.Best);
        Assert.Equal(9.0, first.BestObjective);
        Assert.Equal(first, second with { Best = first.Best });
        Assert.Equal(first.Best, second.Best);
        Assert.Equal(0.1 * 11.0, first.InitialTemperature, 10);
        Assert.Equal(Math.Pow(0.01, 1.0 / 200), first.CoolingFactor, 12);
    }
}
