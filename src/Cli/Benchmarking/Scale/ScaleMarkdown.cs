using System.Globalization;
using System.Text;
using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>The rehearsal's report as markdown tables (for bench/RESULTS-serving.md): set-up, requests, throughput per pool size, every change, the verdicts.</summary>
public static class ScaleMarkdown
{
    public static string Render(ScaleReport report)
    {
        var text = new StringBuilder();
        text.AppendLine("## Multi-host rehearsal: scaling the pools apart (`pdserve bench scale`)").AppendLine();
        text.AppendLine($"Command: `{report.Command}`, started {report.StartedAt}.").AppendLine();
        var m = report.Machine;
        text.Append(Invariant($"**Machine:** {m.Cpu}, {m.Cores} cores, {m.MemoryGiB} GiB, {m.Os}, {m.Runtime}. Every host is a network namespace on one Linux bridge ({report.Subnet}); "))
            .AppendLine(Invariant($"the nodes and the gateway share the cores, unpinned, one torch thread per node."));
        text.Append(Invariant($"**DNS:** {report.DnsServer}, answering `{Host(report.PrefillService)}` and `{Host(report.DecodeService)}` with one A record per live node; "))
            .AppendLine(Invariant($"the gateway (`{report.GatewayConfig}`) re-resolves every {report.DnsRefreshSeconds:0.###} s (`Gateway:DnsRefreshPeriod`); decode nodes trust the prefill Service's name."));
        text.Append(Invariant($"**Removal** = the pod's termination: A record removed, {report.PreStopSeconds:0.###} s preStop, SIGTERM, drain, exit "))
            .Append(Invariant($"(SIGKILL at {report.TerminationGraceSeconds:0.###} s). **Load:** Poisson {report.Rate:0.###} req/s, {report.InputLength} prompt + {report.OutputLength} output tokens "))
            .Append(Invariant($"(ignore_eos), at most {report.MaxConcurrency} in flight, seed {report.Seed}; each pool size held {report.PhaseSeconds:0.###} s after its change completed. "))
            .AppendLine(Invariant($"Node counters sampled every {report.SampleIntervalSeconds * 1000:0} ms, so each time below is up to that late."));
        text.AppendLine();

        text.AppendLine("| requests sent | completed | failed | retried by the gateway | load |");
        text.AppendLine("| ---: | ---: | ---: | ---: | ---: |");
        text.AppendLine(Invariant($"| {report.Sent} | {report.Completed} | {report.Failed} | {Count(report.GatewayRetries)} | {report.LoadEndedAtSeconds - report.LoadStartedAtSeconds:0} s |"));
        foreach (var failure in report.Failures) text.AppendLine(Invariant($"\n- failed ×{failure.Count}: {failure.Reason}"));
        text.AppendLine();

        text.AppendLine("### Throughput per pool size").AppendLine();
        text.AppendLine("| prefill | decode | windows | seconds | completed | req/s | output tok/s | TTFT p50 / p99 ms | TPOT p50 / p99 ms |");
        text.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var size in report.PoolSizes)
            text.Append(Invariant($"| {size.Prefill} | {size.Decode} | {size.Windows} | {size.Seconds:0} | {size.Completed} | {size.RequestsPerSecond:0.00} | "))
                .AppendLine(Invariant($"{size.OutputTokensPerSecond:0} | {Pair(size.TtftMs)} | {Pair(size.TpotMs)} |"));
        foreach (var rolling in report.Phases.Where(p => p.Name == ScaleRunner.RollingRestartPhase))
            text.Append(Invariant($"| rolling restart | | 1 | {rolling.Seconds:0} | {rolling.Completed} | {rolling.RequestsPerSecond:0.00} | "))
                .AppendLine(Invariant($"{rolling.OutputTokensPerSecond:0} | {Pair(rolling.TtftMs)} | {Pair(rolling.TpotMs)} |"));
        text.AppendLine();

        text.AppendLine("### Every change").AppendLine();
        text.AppendLine("| change | node | address | ready after | record → in gateway pool | record → first call | record gone → out of pool | record gone → last call | SIGTERM → exit |");
        text.AppendLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var e in report.Events)
            text.Append(Invariant($"| {e.Action}: {e.Reason} | {e.Node} | {Host(e.Address)} | {S(e.ReadyAfterSeconds)} | {S(e.InGatewayPoolAfterSeconds)} | "))
                .AppendLine(Invariant($"{S(e.FirstCallAfterSeconds)} | {S(e.OutOfGatewayPoolAfterSeconds)} | {S(e.LastCallAfterSeconds)} | {S(e.ExitedAfterSeconds)}{(e.ExitCode is { } c and not 0 ? Invariant($" (code {c})") : "")} |"));
        var added = report.Events.Where(e => e.Action == "add" && e.FirstCallAfterSeconds is not null).Select(e => e.FirstCallAfterSeconds!.Value).ToList();
        var removed = report.Events.Where(e => e.Action == "remove" && e.LastCallAfterSeconds is not null).Select(e => e.LastCallAfterSeconds!.Value).ToList();
        text.AppendLine();
        if (added.Count > 0)
            text.AppendLine(Invariant($"- A new node's first call came {added.Average():0.00} s after its DNS record on average, at most {added.Max():0.00} s ({added.Count} added)."));
        if (removed.Count > 0)
            text.AppendLine(Invariant($"- A removed node's last call came {removed.Average():0.00} s after its DNS record went on average, at most {removed.Max():0.00} s ({removed.Count} removed)."));
        text.AppendLine();

        text.AppendLine("| verdict | | detail |");
        text.AppendLine("| --- | --- | --- |");
        foreach (var verdict in report.Verdicts) text.AppendLine($"| {verdict.Name} | {(verdict.Passed ? "pass" : "**FAIL**")} | {verdict.Detail} |");
        return text.ToString();
    }

    private static string Host(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Host : url;

    private static string S(double? seconds) => seconds is { } s ? Invariant($"{s:0.00} s") : "–";

    private static string Count(double? value) => value is { } v ? Invariant($"{v:0}") : "–";

    private static string Pair(LatencySummary summary) => summary.P50 is { } p50 ? Invariant($"{p50:0.0} / {summary.P99:0.0}") : "–";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
