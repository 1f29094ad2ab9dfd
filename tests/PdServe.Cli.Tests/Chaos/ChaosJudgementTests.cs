using PdServe.Cli.Benchmarking.Chaos;

namespace PdServe.Cli.Tests.Chaos;

/// <summary>How the chaos benchmark counts outcomes and judges memory growth.</summary>
public sealed class ChaosJudgementTests
{
    private static ChaosOutcome Outcome(ChaosOutcomeKind kind, string? code = null, string? poison = null, bool excused = false) =>
        new() { Kind = kind, ErrorCode = code, Poison = poison, StartedAtSeconds = 0, EndedAtSeconds = 1, Excused = excused };

    [Fact]
    public void Failures_the_kills_do_not_explain_are_collateral_and_poison_is_counted_apart()
    {
        var counts = ChaosJudgement.Count([
            Outcome(ChaosOutcomeKind.Completed),
            Outcome(ChaosOutcomeKind.Failed, "node_unreachable", excused: true),
            Outcome(ChaosOutcomeKind.Failed, "node_unavailable"),
            Outcome(ChaosOutcomeKind.Failed, "invalid_request", poison: "temperature-1e-40"),
            Outcome(ChaosOutcomeKind.Completed, poison: "n-max"),
            Outcome(ChaosOutcomeKind.Lost),
            Outcome(ChaosOutcomeKind.Cancelled),
        ]);

        Assert.Equal((7, 2, 1, 3, 1, 1), (counts.Sent, counts.Completed, counts.Cancelled, counts.Failed, counts.Excused, counts.Lost));
        Assert.Equal(1, counts.Collateral);
        Assert.Equal((2, 1), (counts.PoisonSent, counts.PoisonCompleted));
        Assert.Equal(new Dictionary<string, int> { ["invalid_request"] = 1, ["node_unavailable"] = 1, ["node_unreachable"] = 1 }, counts.FailedByCode);
        var verdicts = ChaosJudgement.Verdicts(counts, [], ["decode0", "decode1"], 1.0, [], [], []);
        Assert.Equal(["lost requests = 0", "collateral failures = 0", "poison requests completed"],
            verdicts.Where(v => v.Fails).Select(v => v.Name));
    }

    [Fact]
    public void Rss_growth_compares_the_last_minute_with_the_minute_after_warm_up_and_skips_short_instances()
    {
        // decode0 (pid 10) grows from 100 MiB to 120 MiB over 4 minutes; decode1 (pid 11) lives one minute.
        var samples = Enumerable.Range(0, 241).Select(t => new ChaosSample(t, "load", 0, 0,
            t <= 60 ? [new NodeSample("decode0", 10, 100 + t / 12.0, 0, 0, 0), new NodeSample("decode1", 11, 50, 0, 0, 0)]
                    : [new NodeSample("decode0", 10, 100 + t / 12.0, 0, 0, 0)])).ToList();

        var judged = RssGrowth.Judge(samples);

        var grown = judged.Single(r => r.Pid == 10);
        Assert.True(grown.Judged);
        // Baseline: t in [60, 120) → mean 100 + 89.5/12; final: t in (180, 240] → mean 100 + 210.5/12.
        Assert.Equal((100 + 210.5 / 12) / (100 + 89.5 / 12) - 1, grown.Growth!.Value, 9);
        Assert.False(grown.Passed);
        var brief = judged.Single(r => r.Pid == 11);
        Assert.False(brief.Judged);
    }
}
