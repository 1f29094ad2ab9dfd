using PdServe.Cli.Evaluation;
using PdServe.Cli.Terminal;
using PdServe.Engine;
using PdServe.Pruning;
using PdServe.Pruning.Evaluation;
using PdServe.Pruning.Healing;
using PdServe.Pruning.KvSelection;
using PdServe.Pruning.Report;
using PdServe.Pruning.Search;
using PdServe.Training.Corpus;
using Spectre.Console;

namespace PdServe.Cli.Pruning;

/// <summary>
/// <c>pdserve prune --eval</c>: scores the unpruned model, ShortGPT at K_P and K_D, the plan, and the plan and ShortGPT at
/// K_D with the plan's KV policy on held-out text — with <c>--heal</c> also the healed plan and ShortGPT at K_D healed
/// with the same budget on the same text, each without and with the KV policy —, prints the table and adds the run to
/// the quality report.
/// </summary>
public static class PruneEvaluation
{
    /// <param name="healing">The healed plan, and the text and options it was healed with (the baseline gets the same).</param>
    public static void Run(CliContext context, LoadedModel model, TextDocuments held, PruneOutcome outcome, PruneRequest request,
        (HealingResult Result, TextDocuments Data, HealingOptions Options)? healing, CancellationToken cancellation)
    {
        // K_P as the search chose it (--prefill-skip auto), not as asked.
        PruneOptions options = request.Options with { PrefillSkip = outcome.Plan.PrefillSkip.Count };
        var similarities = outcome.Evidence.Similarities;
        var staged = StagedPruning.FromPlan(outcome.Plan);
        var rows = new List<(string Method, StagedPruning Pruning)> { (ReportRow.Unpruned, StagedPruning.Unpruned) };
        foreach (int k in new[] { options.PrefillSkip, options.DecodeSkip }.Where(k => k > 0).Distinct())
            rows.Add((ReportRow.ShortGpt, StagedPruning.Uniform(ShortGptBaseline.Remove(similarities, k))));
        rows.Add((ReportRow.PdServe, staged.WithoutKvPolicy()));
        bool kvPolicy = outcome.Plan.Kv.SelectedLayers.Count > 0;
        if (kvPolicy) rows.Add((ReportRow.PdServeWithKv, staged));
        // The baseline gets the plan's healing budget and its KV policy on the same text, so the comparison stays fair.
        StagedPruning shortGptAtDecode = StagedPruning.Uniform(ShortGptBaseline.Remove(similarities, options.DecodeSkip));
        if (kvPolicy && options.DecodeSkip > 0) rows.Add((ReportRow.ShortGptWithKv, shortGptAtDecode.WithKvPolicy(outcome.Plan.KvPolicy)));
        using HealingResult? shortGptHealed = healing is not { } heal || options.DecodeSkip == 0 ? null
            : PruneRunner.Heal(context, model, request.ModelDir, shortGptAtDecode, heal.Data, heal.Options, "ShortGPT ", cancellation);
        if (shortGptHealed is not null)
        {
            rows.Add((ReportRow.ShortGptHealed, shortGptAtDecode with { Models = shortGptHealed.Models }));
            if (kvPolicy) rows.Add((ReportRow.ShortGptHealedWithKv, shortGptAtDecode.WithKvPolicy(outcome.Plan.KvPolicy) with { Models = shortGptHealed.Models }));
        }
        if (healing is { Result: var healed })
        {
            rows.Add((ReportRow.PdServeHealed, staged.WithoutKvPolicy() with { Models = healed.Models }));
            if (outcome.Plan.Kv.SelectedLayers.Count > 0) rows.Add((ReportRow.PdServeHealedWithKv, staged with { Models = healed.Models }));
        }
        string reportDirectory = request.ReportDir, planPath = request.OutPath;

        int promptTokens = request.EvalPromptTokens ?? options.Calibration.PromptTokens;
        var evaluationOptions = new EvaluationOptions { MaxTokens = request.EvalTokens, PromptTokens = promptTokens };
        IReadOnlyList<EvaluationResult> results = PhasedProgress.Run(context, progress => PruningGuard.Run(() =>
            new Evaluator(model, evaluationOptions).Evaluate(held, rows.Select(r => (Label(r.Method, r.Pruning), r.Pruning)).ToArray(),
                new Progress<double>(f => progress.Report(new ProgressUpdate("held-out evaluation", f))), cancellation)));
        EvaluationTable.Write(context, $"Held-out evaluation on {Path.GetFileName(held.Path)}", results);

        var run = new ReportRun(options.PrefillSkip, options.DecodeSkip, Path.GetFileName(planPath), Path.GetFileName(held.Path), held.Sha256,
            promptTokens, KvBytes.Ratio(model.Model.Config.NumLayers, outcome.Plan.DecodeSkipSet, outcome.Plan.KvPolicy, promptTokens), request.CommandLine,
            results.Select((r, i) => new ReportRow(rows[i].Method, r.Pruning.PrefillSkip.Order().ToArray(), r.Pruning.DecodeSkip.Order().ToArray(),
                r.Pruning.Kv.SelectedLayers.Order().ToArray(), r.Perplexity, r.MeanLoss, r.Top1Agreement, r.MeanKl, r.TokensEvaluated)).ToArray());
        QualityReport.Add(reportDirectory, run);
        context.Out.WriteLine($"report updated: {Path.Combine(reportDirectory, QualityReport.MarkdownFileName)} and {QualityReport.PlotFileName}");
    }

    private static string Label(string method, StagedPruning pruning) => method switch
    {
        ReportRow.Unpruned => method,
        ReportRow.ShortGpt or ReportRow.ShortGptHealed => $"{method}: skip [{string.Join(',', pruning.DecodeSkip.Order())}]",
        ReportRow.ShortGptWithKv or ReportRow.ShortGptHealedWithKv => $"{method}: skip [{string.Join(',', pruning.DecodeSkip.Order())}] kv [{string.Join(',', pruning.Kv.SelectedLayers)}]",
        _ => $"{method}: {pruning}",
    };
}
