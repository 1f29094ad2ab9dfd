using System.Globalization;
using Spectre.Console;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>The printed summary of a serving run: one row per rate.</summary>
public static class ServeBenchTable
{
    public static Table Create(ServeBenchReport report)
    {
        var table = new Table()
            .Title(Markup.Escape($"{report.Model} at {report.Url}: {report.NumPrompts} requests per rate, dataset {report.Dataset} " +
                                 $"(input {report.InputLength}, output {report.OutputLength}, range {report.RangeRatio}), " +
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

    private static string Count(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Kib(double bytes) => (bytes / 1024).ToString("0.0", CultureInfo.InvariantCulture);
}
