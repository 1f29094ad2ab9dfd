using System.Globalization;
using Spectre.Console;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>The printed summary of a serving run: one row per rate.</summary>
public static class ServeBenchTable
{
    public static Table Create(ServeBenchReport report)
    {
        var table = new Table()
            .Title(Markup.Escape($"{report.Model} at {report.Url}: {report.NumPrompts} requests per rate, {DatasetDescription(report)}, " +
                                 $"max concurrency {report.MaxConcurrency?.ToString(CultureInfo.InvariantCulture) ?? "unlimited"}" +
                                 (report.Stream ? "" : ", not streamed")));
        string[] columns = ["rate", "ok", "failed", "req/s", "out tok/s", "total tok/s", "TTFT p50 / p99 ms", "TPOT p50 / p99 ms",
            "ITL p99 ms", "E2E p50 / p99 ms", "goodput req/s (SLO met)", "KV sent / full per req"];
        foreach (string column in columns) table.AddColumn(new TableColumn(column).RightAligned());
        foreach (var r in report.Rates)
        {
            table.AddRow(
                r.Rate, Count(r.Completed), r.Failed == 0 ? "0" : $"[red]{r.Failed}[/]",
                Number(r.RequestThroughput, "0.00"), Number(r.OutputTokenThroughput, "0.0"), Number(r.TotalTokenThroughput, "0.0"),
                Pair(r.TtftMs), Pair(r.TpotMs), Number(r.ItlMs.P99, "0.0"), Pair(r.E2elMs),
                r.Goodput is { } goodput ? $"{Number(goodput, "0.00")} ({Number(r.SloAttainment * 100, "0")}%)" : "–",
                KvBytes(r));
        }
        return table;
    }

    /// <summary>Every latency of every rate in full: mean, p50, p90, p99 and the number of samples.</summary>
    public static Table Latencies(ServeBenchReport report)
    {
        var table = new Table().Title("Latencies (ms) of successful requests");
        table.AddColumn("rate").AddColumn("metric");
        foreach (string column in (string[])["samples", "mean", "p50", "p90", "p99"]) table.AddColumn(new TableColumn(column).RightAligned());
        foreach (var r in report.Rates)
        {
            foreach (var (name, summary) in new[] { ("TTFT", r.TtftMs), ("TPOT", r.TpotMs), ("ITL", r.ItlMs), ("E2E", r.E2elMs) })
            {
                table.AddRow(r.Rate, name, Count(summary.Count), Number(summary.Mean, "0.0"), Number(summary.P50, "0.0"),
                    Number(summary.P90, "0.0"), Number(summary.P99, "0.0"));
            }
        }
        return table;
    }

    /// <summary>The multiturn dataset per turn index and for turns 2+: TTFT and what the server reused.</summary>
    public static Table Turns(ServeBenchReport report)
    {
        var table = new Table().Title("Per turn: TTFT (ms) and prompt reuse, means per completed request");
        table.AddColumn("rate").AddColumn("turn");
        foreach (string column in (string[])["ok / sent", "prompt tok", "TTFT p50 / p90", "KV sent KiB", "KV reused KiB", "reused prompt tok",
                     "cached tok", "computed tok", "hits"])
            table.AddColumn(new TableColumn(column).RightAligned());
        foreach (var r in report.Rates)
        {
            foreach (var t in r.Turns ?? [])
            {
                table.AddRow(r.Rate, t.Turn, $"{Count(t.Completed)} / {Count(t.Requests)}", Number(t.MeanPromptTokens, "0.0"),
                    $"{Number(t.TtftMs.P50, "0.0")} / {Number(t.TtftMs.P90, "0.0")}", Number(t.MeanKvBytesSent / 1024, "0.0"),
                    Number(t.MeanKvBytesReused / 1024, "0.0"), Number(t.MeanReusedPromptTokens, "0.0"), Number(t.MeanCachedTokens, "0.0"),
                    Number(t.MeanPromptTokensComputed, "0.0"), Percent(t.HitShare));
            }
        }
        return table;
    }

    /// <summary>Per rate, the prompt tokens the prefill node computed against those it took from its prefix cache.</summary>
    public static Table PromptReuse(ServeBenchReport report)
    {
        var table = new Table().Title("Prefix cache: prompt tokens per completed request");
        table.AddColumn("rate");
        foreach (string column in (string[])["prompt tok", "computed tok", "cached share"]) table.AddColumn(new TableColumn(column).RightAligned());
        foreach (var r in report.Rates)
        {
            double? prompt = r.Completed == 0 ? null : (double)r.TotalInputTokens / r.Completed;
            table.AddRow(r.Rate, Number(prompt, "0.0"), Number(r.PromptTokensComputedPerRequest, "0.0"), Percent(r.CachedTokenShare));
        }
        return table;
    }

    /// <summary>The dataset and the lengths that shape it, as the table titles and RESULTS-serving.md name it.</summary>
    public static string DatasetDescription(ServeBenchReport report)
    {
        if (report.Conversation is { } c)
        {
            var (shortest, longest) = c.UserTokenRange;
            return $"dataset multiturn ({c.Conversations} conversations × {c.Turns} turns, system prompt {c.SystemTokens} tokens, " +
                   $"user messages {shortest}–{longest} tokens, think time {Number(c.ThinkTimeSeconds, "0.###")} s mean, output {report.OutputLength})";
        }
        if (report.SharedPrefix is { } p)
            return $"dataset shared-prefix (prefix {p.PrefixTokens} + suffix {p.SuffixTokens} tokens, output {report.OutputLength})";
        return $"dataset {report.Dataset} (input {report.InputLength}, output {report.OutputLength}, range {report.RangeRatio})";
    }

    /// <summary>The failure reasons of every rate, so none is hidden behind a count.</summary>
    public static IEnumerable<string> FailureLines(ServeBenchReport report) =>
        report.Rates.SelectMany(r => r.Failures.Select(f => $"rate {r.Rate}: {f.Count} × {f.Reason}"));

    public static string KvBytes(RateResult r) =>
        r.KvBytesSentPerRequest is { } sent && r.KvBytesFullPerRequest is { } full
            ? full == 0 ? "none (unified)" : $"{Kib(sent)} / {Kib(full)} KiB ({full / Math.Max(sent, 1):0.0}× less)"
            : "–";

    public static string Pair(LatencySummary s) => s.Count == 0 ? "–" : $"{Number(s.P50, "0.0")} / {Number(s.P99, "0.0")}";

    public static string Number(double? value, string format) =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "–";

    public static string Percent(double? share) => share is { } s ? Number(s * 100, "0") + "%" : "–";

    private static string Count(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Kib(double bytes) => (bytes / 1024).ToString("0.0", CultureInfo.InvariantCulture);
}
