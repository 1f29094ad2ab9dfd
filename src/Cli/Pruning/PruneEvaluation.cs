using PdServe.Cli.Evaluation;
using PdServe.Cli.Terminal;
using PdServe.Engine;
using PdServe.Pruning;
using PdServe.Pruning.Evaluation;
using PdServe.Pruning.KvSelection;
using PdServe.Pruning.Report;
using PdServe.Pruning.Search;
using PdServe.Training.Corpus;
using Spectre.Console;

namespace PdServe.Cli.Pruning;

/// <summary>
/// <c>pdserve prune --eval</c>: scores the unpruned model, ShortGPT at K_P and K_D, the plan, and the plan with its KV
/// policy on held-out text, prints the table and adds the run to the quality report.
/// </summary>
public static class PruneEvaluation
{
    public static void Run(CliContext context, LoadedModel model, TextDocuments held, PruneOutcome outcome, PruneOptions options,
        long? maxTokens, string reportDirectory, string planPath, string commandLine, CancellationToken cancellation)
    {
        var similarities = outcome.Evidence.Similarities;
        var staged = StagedPruning.FromPlan(outcome.Plan);
        var rows = new List<(string Method, StagedPruning Pruning)> { (ReportRow.Unpruned, StagedPruning.Unpruned) };
        foreach (int k in new[] { options.PrefillSkip, options.DecodeSkip }.Where(k => k > 0).Distinct())
            rows.Add((ReportRow.ShortGpt, StagedPruning.Uniform(ShortGptBaseline.Remove(similarities, k))));
        rows.Add((ReportRow.PdServe, staged.WithoutKvPolicy()));
        if (outcome.Plan.Kv.SelectedLayers.Count > 0) rows.Add((ReportRow.PdServeWithKv, staged));

        var evaluationOptions = new EvaluationOptions { MaxTokens = maxTokens, PromptTokens = options.Calibration.PromptTokens };
        IReadOnlyList<EvaluationResult> results = PhasedProgress.Run(context, progress => PruningGuard.Run(() =>
            new Evaluator(model, evaluationOptions).Evaluate(held, rows.Select(r => (Label(r.Method, r.Pruning), r.Pruning)).ToArray(),
                new Progress<double>(f => progress.Report(new ProgressUpdate("held-out evaluation", f))), cancellation)));
        EvaluationTable.Write(context, $"Held-out evaluation on {Path.GetFileName(held.Path)}", results);

        int promptTokens = options.Calibration.PromptTokens;
        var run = new ReportRun(options.PrefillSkip, options.DecodeSkip, Path.GetFileName(planPath), Path.GetFileName(held.Path), held.Sha256,
            promptTokens, KvBytes.Ratio(model.Model.Config.NumLayers, outcome.Plan.DecodeSkipSet, outcome.Plan.KvPolicy, promptTokens), commandLine,
            results.Select((r, i) => new ReportRow(rows[i].Method, r.Pruning.PrefillSkip.Order().ToArray(), r.Pruning.DecodeSkip.Order().ToArray(),
                r.Pruning.Kv.SelectedLayers.Order().ToArray(), r.Perplexity, r.MeanLoss, r.Top1Agreement, r.MeanKl, r.TokensEvaluated)).ToArray());
        QualityReport.Add(reportDirectory, run);
        context.Out.WriteLine($"report updated: {Path.Combine(reportDirectory, QualityReport.MarkdownFileName)} and {QualityReport.PlotFileName}");
    }

    private static string Label(string method, StagedPruning pruning) => method switch
    {
        ReportRow.Unpruned => method,
        ReportRow.ShortGpt => $"{method}: skip [{string.Join(',', pruning.DecodeSkip.Order())}]",
        _ => $"{method}: {pruning}",
    };
}
