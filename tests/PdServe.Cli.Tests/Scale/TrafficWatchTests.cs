using PdServe.Cli.Benchmarking.Scale;

namespace PdServe.Cli.Tests.Scale;

/// <summary>What a node's sampled counters say about when its traffic started and stopped.</summary>
public sealed class TrafficWatchTests
{
    private static TrafficWatch Watch(params (double At, double Tokens, double Completed)[] samples)
    {
        var watch = new TrafficWatch();
        foreach (var (at, tokens, completed) in samples) watch.Add(at, new NodeCounters(tokens, completed));
        return watch;
    }

    [Fact]
    public void The_first_call_after_a_moment_is_the_first_sample_whose_tokens_grew_past_that_moment()
    {
        var watch = Watch((1.0, 0, 0), (1.1, 0, 0), (1.2, 0, 0), (1.3, 32, 0), (1.4, 64, 1));
        Assert.Equal(1.3, watch.FirstCallAfter(1.05));
        Assert.Equal(1.4, watch.FirstCallAfter(1.3));   // 32 tokens were already counted at 1.3
        Assert.Null(watch.FirstCallAfter(1.4));
        Assert.Equal(1.3, watch.FirstCallAfter(0));     // before any sample: counters start at zero
    }

    [Fact]
    public void The_last_call_after_a_moment_is_the_last_sample_that_grew_and_none_when_nothing_did()
    {
        var watch = Watch((1.0, 10, 0), (1.1, 20, 1), (1.2, 20, 2), (1.3, 30, 2), (1.4, 30, 3), (1.5, 30, 3));
        Assert.Equal(1.3, watch.LastCallAfter(1.05));
        Assert.Equal(1.3, watch.LastCallAfter(1.25));
        Assert.Null(watch.LastCallAfter(1.3));
        Assert.Equal(3, watch.CompletedBetween(0.5, 1.45));
        Assert.Equal(2, watch.CompletedBetween(1.15, 1.4));   // 3 at 1.4 less 1 at 1.1
        Assert.Equal(6, watch.Count);
    }

    [Fact]
    public void A_node_metrics_page_gives_accepted_tokens_and_completed_calls()
    {
        string exposition = """
            # HELP pdserve_prompt_tokens_total Prompt tokens of accepted requests
            pdserve_prompt_tokens_total 384
            pdserve_requests_total{outcome="ok"} 3
            pdserve_requests_total{outcome="Unavailable"} 2
            """;
        Assert.Equal(new NodeCounters(384, 3), NodeCounterProbe.Parse(exposition));
        Assert.Equal(new NodeCounters(0, 0), NodeCounterProbe.Parse("# nothing counted yet\n"));
    }
}
