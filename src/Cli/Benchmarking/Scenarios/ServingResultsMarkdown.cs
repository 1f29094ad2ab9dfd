using System.Globalization;
using System.Text;
using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Benchmarking.Scenarios;

/// <summary>
/// Writes bench/RESULTS-serving.md from the scenario runs: the machine and the command, one table and plot per group
/// of compared scenarios, headline comparisons computed from the numbers (no hand-written claims that could go stale),
/// every scenario's exact commands, and the independent-client cross-check.
/// </summary>
public static class ServingResultsMarkdown
{
    public sealed record CrossCheck(string UpCommandLine, string ServeCommandLine, RateResult Serve, WrkCrossCheck.Result Wrk, int MaxTokens);

    public static string Render(string command, MachineDescription machine, TimeSpan elapsed, IReadOnlyList<ScenarioRun> runs,
        IReadOnlyDictionary<string, string> plots, CrossCheck? crossCheck, string? crossCheckSkipped)
    {
        var md = new StringBuilder();
        md.AppendLine("# Serving benchmark: unified vs disaggregated, full vs pruned transfer");
        md.AppendLine();
        md.AppendLine($"Produced by one command, `{command}`, in {elapsed.TotalMinutes:0} min on {DateTime.UtcNow:yyyy-MM-dd}.");
        md.AppendLine($"**Machine:** {machine}. The gateway, the benchmark client and the nodes share these cores: each node is");
        md.AppendLine("pinned to one core (`pdserve up` lays them out), the gateway and the client run unpinned beside them.");
        var workload = runs.Select(r => r.Report).OfType<ServeBenchReport>().FirstOrDefault(r => r.Conversation is null);
        if (workload is not null)
        {
            md.AppendLine($"**Workload (every scenario but the multi-turn ones):** dataset {workload.Dataset}, {workload.InputLength}-token prompts, " +
                          $"{workload.OutputLength} output tokens (ignore_eos {(workload.IgnoreEos ? "on" : "off")}), {workload.NumPrompts} requests per rate " +
                          $"with Poisson arrivals, seed {workload.Seed}, {workload.WarmupRequests} warm-up requests not counted; goodput SLO {workload.Goodput ?? "none"}.");
        }
        md.AppendLine();
        md.AppendLine("Latencies are client-side, in ms; TPOT = (E2E − TTFT)/(tokens − 1) per request; ITL = gaps between streamed chunks;");
        md.AppendLine("percentiles interpolate linearly (as numpy's). KV bytes per request come from the gateway's");
        md.AppendLine("`pdserve_gateway_kv_transfer_bytes_total` counter read before and after each rate (full = what an unpruned");
        md.AppendLine("fp32 transfer would send). Goodput = requests/s that met every SLO; SLO % = those over all requests sent.");
        md.AppendLine();

        foreach (var group in runs.GroupBy(r => r.Scenario.Group))
        {
            md.AppendLine($"## {group.Key}");
            md.AppendLine();
            foreach (var run in group) md.AppendLine($"- **{run.Scenario.Name}**: {run.Scenario.Description}");
            md.AppendLine();
            if (group.Any(r => r.Scenario.Conversations))
            {
                RenderTurns(md, group.ToList(), runs);
                continue;
            }
            md.AppendLine("| scenario | rate | ok | failed | req/s | out tok/s | TTFT p50 / p99 | TPOT p50 / p99 | ITL p99 | E2E p99 | goodput (SLO %) | KV sent / full per request |");
            md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var run in group)
            {
                if (run.Report is null)
                {
                    md.AppendLine(NotRunRow(run));
                    continue;
                }
                foreach (var r in run.Report.Rates)
                {
                    md.AppendLine($"| {run.Scenario.Name} | {r.Rate} | {r.Completed} | {r.Failed} | {F(r.RequestThroughput, "0.00")} | {F(r.OutputTokenThroughput, "0")} | " +
                                  $"{ServeBenchTable.Pair(r.TtftMs)} | {ServeBenchTable.Pair(r.TpotMs)} | {F(r.ItlMs.P99, "0.0")} | {F(r.E2elMs.P99, "0")} | " +
                                  $"{(r.Goodput is { } g ? $"{F(g, "0.00")} ({F(r.SloAttainment * 100, "0")}%)" : "–")} | {ServeBenchTable.KvBytes(r)} |");
                }
            }
            md.AppendLine();
            if (plots.TryGetValue(group.Key, out string? plot))
            {
                md.AppendLine($"![{group.Key}]({plot})");
                md.AppendLine();
            }
            foreach (string line in Headlines(group, runs)) md.AppendLine($"- {line}");
            md.AppendLine();
        }

        md.AppendLine("## Cross-check against an independent client");
        md.AppendLine();
        if (crossCheck is null)
            md.AppendLine($"Not run: {crossCheckSkipped}.");
        else
        {
            var serve = crossCheck.Serve;
            double wrkTokens = crossCheck.Wrk.WrkRequestsPerSecond * crossCheck.MaxTokens;
            md.AppendLine($"A non-streaming workload on the `{crossCheck.UpCommandLine}` cluster, the same prompt length and max_tokens " +
                          "(ignore_eos, so every response has exactly max_tokens tokens), both clients keeping the same number of requests in flight:");
            md.AppendLine();
            md.AppendLine("| client | command | requests | errors | req/s | output tok/s |");
            md.AppendLine("| --- | --- | ---: | ---: | ---: | ---: |");
            md.AppendLine($"| pdserve bench serve | `{crossCheck.ServeCommandLine}` | {serve.Completed} | {serve.Failed} | {F(serve.RequestThroughput, "0.00")} | {F(serve.OutputTokenThroughput, "0")} |");
            md.AppendLine($"| wrk 4.1 (Debian) | `{crossCheck.Wrk.WrkCommand}` | {crossCheck.Wrk.WrkRequests} | {crossCheck.Wrk.WrkErrors} | {F(crossCheck.Wrk.WrkRequestsPerSecond, "0.00")} | {F(wrkTokens, "0")} |");
            md.AppendLine();
            double difference = (serve.RequestThroughput - crossCheck.Wrk.WrkRequestsPerSecond) / crossCheck.Wrk.WrkRequestsPerSecond;
            md.AppendLine($"Agreement: bench serve's request throughput is {F(difference * 100, "+0.0;-0.0")}% of wrk's " +
                          $"(output tokens per request as counted by bench serve: {F((double)serve.TotalOutputTokens / Math.Max(1, serve.Completed), "0.0")}, max_tokens {crossCheck.MaxTokens}).");
        }
        md.AppendLine();

        md.AppendLine("## Commands of each row");
        md.AppendLine();
        md.AppendLine("Each scenario is `pdserve up` in one terminal and `pdserve bench serve` in another (the JSON holds every figure above");
        md.AppendLine("and the machine); `bench scenarios` runs exactly these, one after another.");
        md.AppendLine();
        md.AppendLine("```");
        foreach (var run in runs)
        {
            md.AppendLine($"# {run.Scenario.Name}");
            md.AppendLine($"./{run.UpCommandLine}");
            md.AppendLine($"./{run.ServeCommandLine}");
        }
        md.AppendLine("```");
        return md.ToString();
    }

    /// <summary>
    /// A group of multi-turn scenarios: its workload, one row per scenario, rate and turn (every turn index, then turns
    /// 2+ pooled), and each scenario against its baseline over turns 2+, where reuse can pay.
    /// </summary>
    private static void RenderTurns(StringBuilder md, IReadOnlyList<ScenarioRun> group, IReadOnlyList<ScenarioRun> all)
    {
        if (group.Select(r => r.Report).OfType<ServeBenchReport>().FirstOrDefault() is { } workload)
        {
            md.AppendLine($"**Workload:** {ServeBenchTable.DatasetDescription(workload)}, conversations starting at " +
                          $"{string.Join(", ", workload.Rates.Select(r => r.Rate))} per second (Poisson), ignore_eos {(workload.IgnoreEos ? "on" : "off")}, " +
                          $"seed {workload.Seed}, {workload.WarmupRequests} warm-up requests not counted. Per turn, means per completed request: " +
                          "KV bytes and reused prompt tokens from each response's `usage.kv_transfer`, cached tokens from " +
                          "`usage.prompt_tokens_details.cached_tokens`, computed = prompt − cached, hits = requests with any cached or reused token.");
            md.AppendLine();
        }
        md.AppendLine("| scenario | rate | turn | ok / sent | prompt tok | TTFT p50 / p90 | KV sent / full per request | KV reused | reused prompt tok | cached tok | computed tok | hits |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var run in group)
        {
            if (run.Report is null)
            {
                md.AppendLine(NotRunRow(run));
                continue;
            }
            foreach (var r in run.Report.Rates)
            {
                foreach (var t in r.Turns ?? [])
                {
                    md.AppendLine($"| {run.Scenario.Name} | {r.Rate} | {t.Turn} | {t.Completed} / {t.Requests} | {F(t.MeanPromptTokens, "0")} | " +
                                  $"{F(t.TtftMs.P50, "0.0")} / {F(t.TtftMs.P90, "0.0")} | {Kib(t.MeanKvBytesSent)} / {Kib(t.MeanKvBytesFull)} KiB | " +
                                  $"{Kib(t.MeanKvBytesReused)} KiB | {F(t.MeanReusedPromptTokens, "0")} | {F(t.MeanCachedTokens, "0")} | " +
                                  $"{F(t.MeanPromptTokensComputed, "0")} | {ServeBenchTable.Percent(t.HitShare)} |");
                }
            }
        }
        md.AppendLine();
        foreach (var other in group.Where(r => r.Report is not null))
        {
            var baseline = all.FirstOrDefault(r => r.Scenario.Name == other.Scenario.Baseline && r.Report is not null);
            if (baseline is null) continue;
            var rate = baseline.Report!.Rates.Select(r => r.Rate).Intersect(other.Report!.Rates.Select(r => r.Rate)).LastOrDefault();
            if (rate is null) continue;
            var a = baseline.Report.Rates.Single(r => r.Rate == rate).Turns?.FirstOrDefault(t => t.Turn == TurnResult.LaterTurns);
            var b = other.Report.Rates.Single(r => r.Rate == rate).Turns?.FirstOrDefault(t => t.Turn == TurnResult.LaterTurns);
            if (a is null || b is null) continue;
            md.AppendLine($"- Turns 2+ at {rate} conversations/s, {other.Scenario.Name} vs {baseline.Scenario.Name}: KV sent {Kib(b.MeanKvBytesSent)} vs " +
                          $"{Kib(a.MeanKvBytesSent)} KiB per request ({Ratio(b.MeanKvBytesSent, a.MeanKvBytesSent)}), TTFT p50 {F(b.TtftMs.P50, "0")} vs " +
                          $"{F(a.TtftMs.P50, "0")} ms ({Ratio(b.TtftMs.P50, a.TtftMs.P50)}), prompt tokens computed {F(b.MeanPromptTokensComputed, "0")} vs " +
                          $"{F(a.MeanPromptTokensComputed, "0")} ({Ratio(b.MeanPromptTokensComputed, a.MeanPromptTokensComputed)}).");
        }
        md.AppendLine();
    }

    private static string Kib(double? bytes) => F(bytes / 1024, "0.0");

    /// <summary>Each scenario against its baseline at the highest rate both measured, computed from the tables.</summary>
    private static IEnumerable<string> Headlines(IEnumerable<ScenarioRun> group, IReadOnlyList<ScenarioRun> all)
    {
        foreach (var other in group.Where(r => r.Report is not null))
        {
            var baseline = all.FirstOrDefault(r => r.Scenario.Name == other.Scenario.Baseline && r.Report is not null);
            if (baseline is null) continue;
            var rate = baseline.Report!.Rates.Select(r => r.Rate).Intersect(other.Report!.Rates.Select(r => r.Rate)).LastOrDefault();
            if (rate is null) continue;
            var a = baseline.Report.Rates.Single(r => r.Rate == rate);
            var b = other.Report.Rates.Single(r => r.Rate == rate);
            yield return $"At {rate} req/s, {other.Scenario.Name} vs {baseline.Scenario.Name}: output {F(b.OutputTokenThroughput, "0")} vs {F(a.OutputTokenThroughput, "0")} tok/s " +
                         $"({Ratio(b.OutputTokenThroughput, a.OutputTokenThroughput)}), TTFT p99 {F(b.TtftMs.P99, "0")} vs {F(a.TtftMs.P99, "0")} ms " +
                         $"({Ratio(b.TtftMs.P99, a.TtftMs.P99)}), TPOT p99 {F(b.TpotMs.P99, "0.0")} vs {F(a.TpotMs.P99, "0.0")} ms ({Ratio(b.TpotMs.P99, a.TpotMs.P99)}).";
        }
    }

    /// <summary>Text that may hold '|' or line breaks (error messages) made safe for one table cell.</summary>
    private static string Cell(string text) => text.ReplaceLineEndings(" ").Replace("|", "\\|");

    private static string Ratio(double? value, double? baseline) =>
        value is { } v && baseline is { } b && b > 0 ? (v / b).ToString("0.00", CultureInfo.InvariantCulture) + "×" : "–";

    private static string F(double? value, string format) => ServeBenchTable.Number(value, format);

    /// <summary>A scenario that produced no report: its name and why, across a twelve-column table.</summary>
    private static string NotRunRow(ScenarioRun run)
    {
        string why = run.Skipped is not null ? "skipped: " + run.Skipped : "failed: " + run.Error;
        return $"| {run.Scenario.Name} | {Cell(why)} | | | | | | | | | | |";
    }
}
