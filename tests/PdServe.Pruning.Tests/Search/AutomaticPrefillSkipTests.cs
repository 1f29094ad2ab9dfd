using PdServe.Pruning.KvSelection;

namespace PdServe.Pruning.Tests.Search;

/// <summary>
/// <c>--prefill-skip auto</c>: the search gives the prefill stage the most blocks, up to K_D, whose greedy removal keeps
/// the prefill objective within the budget — none under a budget nothing meets, all K_D under one everything meets, and in
/// between exactly the greedy steps that fit — and the decode stage still removes K_D blocks including those.
/// </summary>
public sealed class AutomaticPrefillSkipTests : IClassFixture<SearchFixtureHolder>
{
    private readonly SearchFixture fixture;

    public AutomaticPrefillSkipTests(SearchFixtureHolder holder) => fixture = holder.Fixture;

    [Fact]
    public void The_budget_decides_how_many_blocks_prefill_skips_and_decode_keeps_its_count()
    {
        const int decode = 3;
        var none = fixture.Search(decode, decode, iterations: 4, kv: KvLayerRequest.None, prefillKlBudget: 1e-12);
        Assert.Empty(none.Plan.PrefillSkip);
        Assert.Equal(decode, none.Plan.DecodeSkip.Count);

        var all = fixture.Search(decode, decode, iterations: 4, kv: KvLayerRequest.None, prefillKlBudget: 1e9);
        Assert.Equal(decode, all.Plan.PrefillSkip.Count);
        Assert.Equal(all.Plan.PrefillSkip.Order(), all.Plan.DecodeSkip.Order());

        // A budget between the first and the second greedy step's objective admits exactly one block.
        var steps = all.Evidence.PrefillGreedy;
        Assert.True(steps[0].Objective < steps[1].Objective);
        double between = (steps[0].Objective + steps[1].Objective) / 2;
        var one = fixture.Search(decode, decode, iterations: 4, kv: KvLayerRequest.None, prefillKlBudget: between);
        Assert.Single(one.Plan.PrefillSkip);
        Assert.Single(one.Evidence.PrefillGreedy);
        Assert.Equal(decode, one.Plan.DecodeSkip.Count);
        Assert.True(one.Plan.PrefillSkipSet.IsSubsetOf(one.Plan.DecodeSkipSet));
    }
}

/// <summary>One tiny model for the class: loading it is the slow part.</summary>
public sealed class SearchFixtureHolder : IDisposable
{
    public SearchFixture Fixture { get; } = new(numLayers: 6);

    public void Dispose() => Fixture.Dispose();
}
