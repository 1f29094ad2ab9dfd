using System.Globalization;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>What a rehearsal must show to pass: no failed request, every new node served, every removed node drained by itself, nothing left.</summary>
public static class ScaleJudgement
{
    public static IReadOnlyList<ScaleVerdict> Verdicts(IReadOnlyList<ScaleRequest> requests, IReadOnlyList<ScaleEvent> events, IReadOnlyList<string> leftovers,
        string? aborted, double terminationGraceSeconds)
    {
        int failed = requests.Count(r => !r.Success);
        var added = events.Where(e => e.Action == "add").ToList();
        var removed = events.Where(e => e.Action == "remove").ToList();
        var unserved = added.Where(e => e.FirstCallAfterSeconds is null).Select(e => e.Node).ToList();
        var undrained = removed.Where(e => e.ExitCode != 0 || e.ExitedAfterSeconds is not { } s || s >= terminationGraceSeconds).Select(e => e.Node).ToList();
        return
        [
            new("no request failed", requests.Count > 0 && failed == 0,
                requests.Count == 0 ? "no request was sent" : Invariant($"{failed} of {requests.Count} failed")),
            new("every added node received traffic", unserved.Count == 0,
                unserved.Count == 0 ? Invariant($"{added.Count} added, each got a call") : $"no call reached {string.Join(", ", unserved)}"),
            new("every removed node drained and exited by itself", undrained.Count == 0,
                undrained.Count == 0 ? Invariant($"{removed.Count} removed, each exited with code 0 within the grace period") : $"not: {string.Join(", ", undrained)}"),
            new("the rehearsal ran to its end", aborted is null, aborted ?? "every step ran"),
            new("nothing left behind", leftovers.Count == 0, leftovers.Count == 0 ? "no namespace, link, resolver file, folder or process" : string.Join("; ", leftovers)),
        ];
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
