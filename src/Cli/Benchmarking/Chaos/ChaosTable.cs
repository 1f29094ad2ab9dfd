using System.Globalization;
using PdServe.Cli.Benchmarking.Serving;
using Spectre.Console;

namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>The printed summary of a chaos run: how requests ended, the kills' timings, and the verdicts.</summary>
public static class ChaosTable
{
    public static Table Requests(ChaosReport report)
    {
        var r = report.Requests;
        var table = new Table().Title(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{report.Model}: {report.Prefill} prefill + {report.Decode} decode, {report.Minutes:0.##} min at {report.Load:0.##} × " +
            $"{report.SaturationRequestsPerSecond:0.00} req/s saturation = {report.OfferedRequestsPerSecond:0.00} req/s offered")));
        table.AddColumn("requests").AddColumn(new TableColumn("count").RightAligned());
        table.AddRow("sent", Count(r.Sent));
        table.AddRow("completed", Count(r.Completed));
        table.AddRow("cancelled by the client", Count(r.Cancelled));
        table.AddRow("failed, clean error", Count(r.Failed));
        foreach (var (code, count) in r.FailedByCode) table.AddRow(Markup.Escape($"  {code}"), Count(count));
        table.AddRow("  excused (node_unreachable during a decode kill)", Count(r.Excused));
        table.AddRow("lost", Flagged(r.Lost));
        table.AddRow("collateral failures", Flagged(r.Collateral));
        table.AddRow("poison sent / completed", $"{Count(r.PoisonSent)} / {Count(r.PoisonCompleted)}");
        table.AddRow("retried before the first token (gateway)", report.RetriesBeforeFirstToken is { } retries ? Count((int)retries) : "–");
        return table;
    }

    public static Table Kills(ChaosReport report)
    {
        var table = new Table().Title("Node kills (SIGKILL, restart on the same port), seconds");
        table.AddColumn("timing");
        foreach (string column in (string[])["kills", "mean", "p50", "p90", "max"]) table.AddColumn(new TableColumn(column).RightAligned());
        foreach (var (name, values) in new[]
                 {
                     ("kill → evicted from its pool", report.Kills.Select(k => k.EvictedAfterSeconds)),
                     ("restart → /healthz 200", report.Kills.Select(k => k.HealthyAfterSeconds)),
                     ("restart → back in its pool", report.Kills.Select(k => k.RejoinedAfterSeconds)),
                 })
        {
            var seen = values.OfType<double>().ToList();
            var summary = LatencySummary.Of(seen);
            table.AddRow(Markup.Escape(name), $"{seen.Count} / {report.Kills.Count}", ServeBenchTable.Number(summary.Mean, "0.00"),
                ServeBenchTable.Number(summary.P50, "0.00"), ServeBenchTable.Number(summary.P90, "0.00"),
                ServeBenchTable.Number(seen.Count > 0 ? seen.Max() : null, "0.00"));
        }
        return table;
    }

    public static Table Verdicts(ChaosReport report)
    {
        var table = new Table().Title("Verdicts");
        table.AddColumn("check").AddColumn("result").AddColumn("detail");
        foreach (var v in report.Verdicts)
            table.AddRow(Markup.Escape(v.Name), !v.Judged ? "not judged" : v.Passed ? "[green]pass[/]" : "[red]FAIL[/]", Markup.Escape(v.Detail));
        return table;
    }

    private static string Count(int n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Flagged(int n) => n == 0 ? "0" : $"[red]{Count(n)}[/]";
}
