using System.Globalization;
using PdServe.Cli.Terminal;
using PdServe.Pruning.Search;
using Spectre.Console;

namespace PdServe.Cli.Pruning;

/// <summary>What <c>pdserve prune</c> prints: per-block scores, the chosen sets with their objectives, and the KV selection.</summary>
public static class PruneSummary
{
    public static void Write(CliContext context, PruneOutcome outcome, string planPath)
    {
        string F(double value, string format = "F4") => value.ToString(format, CultureInfo.InvariantCulture);
        PruneEvidence e = outcome.Evidence;
        var plan = outcome.Plan;
        var table = new Table().Title("Calibration (unpruned model)")
            .AddColumn(new TableColumn("block").RightAligned())
            .AddColumn(new TableColumn("cos sim, prompt").RightAligned())
            .AddColumn(new TableColumn("cos sim, continuation").RightAligned())
            .AddColumn(new TableColumn("Block Influence").RightAligned())
            .AddColumn(new TableColumn("attention on first/last (coverage)").RightAligned())
            .AddColumn("skipped by");
        foreach (var s in e.Similarities)
        {
            var a = e.Attention[s.Block];
            string skippedBy = plan.PrefillSkip.Contains(s.Block) ? "prefill, decode" : plan.DecodeSkip.Contains(s.Block) ? "decode" : "";
            if (plan.Kv.SelectedLayers.Contains(s.Block)) skippedBy = "KV first/last";
            table.AddRow(s.Block.ToString(CultureInfo.InvariantCulture), F(s.Prompt), F(s.Continuation), F(s.BlockInfluence),
                $"{F(a.Kept, "F3")} ({F(a.Coverage, "F3")})", skippedBy);
        }
        context.Out.Write(table);
        context.Out.WriteLine($"prefill skips [{string.Join(',', plan.PrefillSkip)}]: KL {F(e.PrefillAnnealing.BestObjective)} over prompt positions " +
                              $"(greedy {F(e.PrefillAnnealing.StartObjective)}, annealing accepted {e.PrefillAnnealing.Accepted}/{e.PrefillAnnealing.Iterations})");
        context.Out.WriteLine($"decode skips [{string.Join(',', plan.DecodeSkip)}]: KL {F(e.DecodeAnnealing.BestObjective)} over continuation positions " +
                              $"(greedy {F(e.DecodeAnnealing.StartObjective)}, annealing accepted {e.DecodeAnnealing.Accepted}/{e.DecodeAnnealing.Iterations})");
        context.Out.WriteLine($"KV layers [{string.Join(',', plan.Kv.SelectedLayers)}] keep first {plan.Kv.First} and last {plan.Kv.Last}: decode loss " +
                              $"{F(e.Kv.BaselineLoss)} -> {F(e.Kv.FinalLoss)}; KV bytes {F(e.KvBytesRatio, "F2")}x fewer than unpruned at a {e.PromptTokens}-token prompt");
        context.Out.WriteLine($"ShortGPT ranking (least influential first): {string.Join(',', e.ShortGptRanking)}");
        context.Out.WriteLine($"plan written to {planPath}");
    }
}
