using System.Globalization;
using System.Text;

namespace PdServe.Cli.Planning;

/// <summary>The plan as <c>plan-capacity</c> prints it: the workload and SLO, each figure with its file and arithmetic, each pool's sizing, the recommendation, the caveats.</summary>
public static class CapacityPlanText
{
    public static string Render(CapacityPlan plan)
    {
        var w = plan.Workload;
        var p = plan.Prefill;
        var d = plan.Decode;
        var ps = plan.PrefillSizing;
        var ds = plan.DecodeSizing;
        var text = new StringBuilder();
        Line(text, $"Workload: {w.InputTokens} prompt + {w.OutputTokens} output tokens per request at R = {w.Rate:0.###} req/s");
        Line(text, $"  prompt tokens: N·R = {w.InputTokens} × {w.Rate:0.###} = {w.PromptTokensPerSecond:0.#} tok/s; output tokens: R·M = {w.Rate:0.###} × {w.OutputTokens} = {w.OutputTokensPerSecond:0.#} tok/s");
        Line(text, $"SLO: TTFT ≤ {plan.TtftLimitMs:0.###} ms (mean, estimated), TPOT p{d.Percentile} ≤ {plan.TpotLimitMs:0.###} ms (measured)");
        text.AppendLine();

        Line(text, $"Prefill figures, from {p.File} ({p.Nodes} prefill node{(p.Nodes == 1 ? "" : "s")} measured; {p.BenchInputTokens}-token prompts):");
        Line(text, $"  run: {p.Command}");
        Line(text, $"  throughput bound: rate {p.ThroughputRate} carried {p.ThroughputBound * p.Nodes:0.#} prompt tok/s without failures / {p.Nodes} = {p.ThroughputBound:0.#} tok/s per node");
        Line(text, $"  latency bound: {p.BenchInputTokens} tokens / TTFT p50 {p.LightestTtftP50Ms:0.0} ms at rate {p.LightestRate} = {p.LatencyBound:0.#} tok/s per node");
        Line(text, $"  μ = max of the two = {p.TokensPerSecond:0.#} prompt tok/s per node");
        Line(text, $"  overhead O = TTFT p50 {p.LightestTtftP50Ms:0.0} ms − {p.BenchInputTokens} / μ = {p.OverheadMs:0.0} ms (gateway, KV transfer, first token; never below 0)");
        Line(text, $"Prefill pool: S = N / μ = {w.InputTokens} / {p.TokensPerSecond:0.#} = {ps.ServiceMs:0.0} ms per prompt; work N·R / μ = {ps.NodesOfWork:0.###} nodes");
        foreach (var option in ps.Considered)
            Line(text, $"  k = {option.Nodes}: ρ = {ps.NodesOfWork:0.###} / {option.Nodes} = {option.Utilization:0.###}; W = ρ·S / (2(1 − ρ)) = {option.WaitMs:0.0} ms; TTFT ≈ W + S + O = {option.TtftMs:0.0} ms {(option.MeetsSlo ? "≤" : ">")} {plan.TtftLimitMs:0.###}");
        if (ps.Recommended is { } k) Line(text, $"  → {k} prefill node{(k == 1 ? "" : "s")}");
        else Line(text, $"  → none: {ps.Infeasible}");
        text.AppendLine();

        Line(text, $"Decode figures, from {d.File} ({d.Nodes} decode node{(d.Nodes == 1 ? "" : "s")} measured; {d.BenchInputTokens} + {d.BenchOutputTokens} tokens):");
        Line(text, $"  run: {d.Command}");
        Line(text, $"  the busiest rate without failures and TPOT p{d.Percentile} ≤ {plan.TpotLimitMs:0.###} ms: rate {d.Rate}, TPOT p{d.Percentile} {d.TpotMs:0.0} ms");
        Line(text, $"  T = {d.OutputTokensPerSecond * d.Nodes:0.#} output tok/s / {d.Nodes} = {d.OutputTokensPerSecond:0.#} tok/s per node, with {d.Concurrency:0.##} sequences decoding per node (Little's law)");
        Line(text, $"Decode pool: R·M / T = {ds.RequiredTokensPerSecond:0.#} / {d.OutputTokensPerSecond:0.#} = {ds.NodesOfWork:0.###} nodes → ⌈{ds.NodesOfWork:0.###}⌉ = {ds.Recommended} decode node{(ds.Recommended == 1 ? "" : "s")}");
        Line(text, $"  (R × M × TPOT = {ds.SequencesInFlight:0.##} sequences decoding at once across the pool)");
        text.AppendLine();

        if (ps.Recommended is { } prefill) Line(text, $"Recommendation: {prefill} prefill + {ds.Recommended} decode node{(ds.Recommended == 1 ? "" : "s")}");
        else Line(text, $"Recommendation: none meets the TTFT limit ({ps.Infeasible}); decode alone would need {ds.Recommended}");
        foreach (string note in plan.Notes) Line(text, $"Note: {note}");
        return text.ToString();
    }

    private static void Line(StringBuilder text, FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));
}
