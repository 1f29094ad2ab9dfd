using System.Text.Json;
using PdServe.Engine.Planning;
using PdServe.Pruning.KvSelection;
using PdServe.Pruning.Search;

namespace PdServe.Pruning.Tests.Search;

public class PruneSearchTests
{
    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    public void Identity_blocks_have_similarity_one_and_are_exactly_the_blocks_removed(int prefillSkip, int decodeSkip)
    {
        using var fixture = new SearchFixture(numLayers: 5, identityBlocks: [1, 3]);
        PruneOutcome outcome = fixture.Search(prefillSkip, decodeSkip, kv: KvLayerRequest.None);
        foreach (int block in new[] { 1, 3 })
        {
            var similarity = outcome.Evidence.Similarities[block];
            Assert.Equal(1.0, similarity.Prompt, 5);
            Assert.Equal(1.0, similarity.Continuation, 5);
        }
        Assert.All(outcome.Evidence.Similarities.Where(s => s.Block is not (1 or 3)), s => Assert.True(s.All < 0.999, $"block {s.Block}: {s.All}"));
        Assert.Equal([1, 3], outcome.Plan.DecodeSkip);
        Assert.Equal(prefillSkip, outcome.Plan.PrefillSkip.Count);
        Assert.Subset(new HashSet<int> { 1, 3 }, outcome.Plan.PrefillSkipSet.ToHashSet());
        Assert.Equal(0.0, outcome.Evidence.DecodeAnnealing.BestObjective, 8);
        Assert.Equal([1, 3], outcome.Evidence.ShortGptRanking.Take(2).Order());
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 3)]
    [InlineData(2, 2)]
    [InlineData(1, 4)]
    public void Every_plan_keeps_prefill_skip_inside_decode_skip_with_the_asked_sizes(int prefillSkip, int decodeSkip)
    {
        using var fixture = new SearchFixture(numLayers: 5);
        PrunePlan plan = fixture.Search(prefillSkip, decodeSkip, iterations: 8).Plan;
        Assert.Equal(prefillSkip, plan.PrefillSkip.Count);
        Assert.Equal(decodeSkip, plan.DecodeSkip.Count);
        Assert.Subset(plan.DecodeSkipSet.ToHashSet(), plan.PrefillSkipSet.ToHashSet());
        Assert.DoesNotContain(plan.Kv.SelectedLayers, plan.DecodeSkipSet.Contains);
        plan.Validate();
    }

    [Fact]
    public void The_search_is_deterministic_for_a_seed()
    {
        using var fixture = new SearchFixture(numLayers: 5, seed: 23);
        string Plan(int seed) => JsonSerializer.Serialize(fixture.Search(1, 3, seed: seed).Plan);
        Assert.Equal(Plan(5), Plan(5));
    }

    [Fact]
    public void The_plan_records_scores_checksum_and_seed()
    {
        using var fixture = new SearchFixture(numLayers: 4);
        PruneOutcome outcome = fixture.Search(1, 2, seed: 9);
        PrunePlan plan = outcome.Plan;
        Assert.Equal(fixture.Calibration.Sha256, plan.Calibration!["sha256"]!.GetValue<string>());
        Assert.Equal(9, plan.Calibration["seed"]!.GetValue<int>());
        Assert.Equal(4, plan.Scores!["blocks"]!.AsArray().Count);
        Assert.Single(plan.Scores["prefill"]!["greedy"]!.AsArray());
        Assert.Equal(4, plan.Scores["prefill"]!["greedy"]![0]!["candidates"]!.AsObject().Count);
        Assert.Equal(outcome.Evidence.DecodeAnnealing.BestObjective, plan.Scores["decode"]!["objective"]!.GetValue<double>());
        Assert.Equal(fixture.Model.Directory.Fingerprint, plan.ModelFingerprint);
    }

    [Fact]
    public void Impossible_counts_are_refused_before_work()
    {
        using var fixture = new SearchFixture(numLayers: 4);
        Assert.Contains("subset", Assert.Throws<PruningInputException>(() => fixture.Search(2, 1)).Message);
        Assert.Contains("all 4 blocks", Assert.Throws<PruningInputException>(() => fixture.Search(0, 4)).Message);
    }
}
