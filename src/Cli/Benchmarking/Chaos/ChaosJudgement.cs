using System.Globalization;

namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>Counts how the chaos run's requests ended and turns the run's measurements into verdicts.</summary>
public static class ChaosJudgement
{
    private const int ExampleCount = 10;

    public static ChaosCounts Count(IReadOnlyList<ChaosOutcome> outcomes)
    {
        var failed = outcomes.Where(o => o.Kind == ChaosOutcomeKind.Failed).ToList();
        var poison = outcomes.Where(o => o.Poison is not null).ToList();
        var collateral = failed.Where(IsCollateral).ToList();
        var poisonFailures = poison.Where(o => o.Kind != ChaosOutcomeKind.Completed && !o.Excused).ToList();
        return new ChaosCounts
        {
            Sent = outcomes.Count,
            Completed = outcomes.Count(o => o.Kind == ChaosOutcomeKind.Completed),
            Cancelled = outcomes.Count(o => o.Kind == ChaosOutcomeKind.Cancelled),
            Failed = failed.Count,
            FailedByCode = failed.GroupBy(o => o.ErrorCode ?? "unknown").OrderBy(g => g.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count()),
            Excused = failed.Count(o => o.Excused),
            Lost = outcomes.Count(o => o.Kind == ChaosOutcomeKind.Lost),
            Collateral = collateral.Count,
            PoisonSent = poison.Count,
            PoisonCompleted = poison.Count(o => o.Kind == ChaosOutcomeKind.Completed),
            PoisonExcused = poison.Count(o => o.Excused),
            PoisonSentByVariant = poison.GroupBy(o => o.Poison!).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            Examples = [.. outcomes.Where(o => o.Kind == ChaosOutcomeKind.Lost).Concat(collateral).Concat(poisonFailures).Distinct().Take(ExampleCount)],
        };
    }

    /// <summary>A clean failure of an ordinary request that the kills do not explain.</summary>
    public static bool IsCollateral(ChaosOutcome outcome) => outcome is { Kind: ChaosOutcomeKind.Failed, Poison: null, Excused: false };

    public static IReadOnlyList<ChaosVerdict> Verdicts(ChaosCounts counts, IReadOnlyList<NodeKill> kills, IReadOnlyList<string> killable,
        double? drainedAfter, IReadOnlyList<NodeSample> afterDrain, IReadOnlyList<RssGrowth> rss, IReadOnlyList<int> processesLeft)
    {
        var verdicts = new List<ChaosVerdict>
        {
            ChaosVerdict.Of("requests completed", counts.Completed > 0, $"{counts.Completed} of {counts.Sent}"),
            ChaosVerdict.Of("lost requests = 0", counts.Lost == 0, $"{counts.Lost} lost (no complete answer and no clean error)"),
            ChaosVerdict.Of("collateral failures = 0", counts.Collateral == 0,
                $"{counts.Collateral} (failures other than node_unreachable during a decode kill: {counts.Excused} excused)"),
            ChaosVerdict.Of("poison requests completed", counts.PoisonCompleted + counts.PoisonExcused == counts.PoisonSent,
                $"{counts.PoisonCompleted} of {counts.PoisonSent}" + (counts.PoisonExcused > 0 ? $" ({counts.PoisonExcused} excused)" : "")),
        };
        if (killable.Count == 0)
            verdicts.Add(ChaosVerdict.NotJudged("killed nodes evicted and rejoined", "no pool has two nodes, so no node was killed"));
        else if (kills.Count == 0)
            verdicts.Add(ChaosVerdict.NotJudged("killed nodes evicted and rejoined", "the run ended before the first kill"));
        else
        {
            int evicted = kills.Count(k => k.EvictedAfterSeconds is not null);
            int rejoined = kills.Count(k => k.RejoinedAfterSeconds is not null);
            verdicts.Add(ChaosVerdict.Of("killed nodes evicted and rejoined", evicted == kills.Count && rejoined == kills.Count,
                $"{kills.Count} kills: {evicted} evicted, {rejoined} rejoined"));
        }
        verdicts.Add(ChaosVerdict.Of("KV usage back to 0", drainedAfter is not null,
            drainedAfter is { } seconds
                ? string.Create(CultureInfo.InvariantCulture, $"every node idle with no KV {seconds:0.0} s after the load")
                : "still in use: " + string.Join(", ", afterDrain.Where(n => n is not { KvUsage: 0, Running: 0, Waiting: 0 })
                    .Select(n => string.Create(CultureInfo.InvariantCulture, $"{n.Node} kv {n.KvUsage?.ToString("0.####", CultureInfo.InvariantCulture) ?? "unread"}, running {n.Running}, waiting {n.Waiting}")))));
        var judged = rss.Where(r => r.Judged).ToList();
        verdicts.Add(judged.Count == 0
            ? ChaosVerdict.NotJudged("RSS growth < 5%", $"no process instance was sampled for {RssGrowth.MinimumLife.TotalMinutes:0} minutes; a run this short cannot show a leak")
            : ChaosVerdict.Of("RSS growth < 5%", judged.All(r => r.Passed),
                string.Join(", ", judged.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Node} (pid {r.Pid}) {r.Growth * 100:+0.0;-0.0}%")))
                + (rss.Count > judged.Count ? $"; {rss.Count - judged.Count} shorter instances not judged" : "")));
        verdicts.Add(ChaosVerdict.Of("processes left after stop = 0", processesLeft.Count == 0,
            processesLeft.Count == 0 ? "none" : "still running: " + string.Join(", ", processesLeft)));
        return verdicts;
    }
}
