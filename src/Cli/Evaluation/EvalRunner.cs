using PdServe.Cli.Terminal;
using PdServe.Engine;
using PdServe.Training.Corpus;
using PdServe.Engine.Planning;
using PdServe.Pruning;
using PdServe.Pruning.Evaluation;
using Spectre.Console;

namespace PdServe.Cli.Evaluation;

/// <summary>
/// Runs <c>pdserve eval</c>: perplexity of the unpruned model on held-out text, then of each configuration asked for
/// (skipped blocks, or a plan without and with its KV policy) with its top-1 agreement with the unpruned model.
/// </summary>
public static class EvalRunner
{
    public static int Run(CliContext context, string modelDir, TextDocuments documents, int[] skipBlocks, PrunePlan? plan, EvaluationOptions options)
    {
        using var interrupt = new InterruptSignal();
        using LoadedModel loaded = LoadingProgress.Run(context, "loading model", progress => PruningModel.Load(modelDir, progress));
        // A healed plan is scored as its nodes run it: each stage on its own healed weights.
        using LoadedModel? healedPrefill = plan?.HealedFile(prefill: true) is { } prefillFile
            ? LoadingProgress.Run(context, "loading the healed prefill stage", progress => PruningModel.Load(modelDir, progress, prefillFile)) : null;
        using LoadedModel? healedDecode = plan?.HealedFile(prefill: false) is { } decodeFile
            ? LoadingProgress.Run(context, "loading the healed decode stage", progress => PruningModel.Load(modelDir, progress, decodeFile)) : null;
        StageModels? healed = healedPrefill is not null && healedDecode is not null ? new StageModels(healedPrefill.Model, healedDecode.Model) : null;
        List<(string, StagedPruning)> configurations = Configurations(skipBlocks, plan, healed);
        foreach ((_, StagedPruning pruning) in configurations) CheckBlocks(pruning, loaded.Model.Config.NumLayers);
        IReadOnlyList<EvaluationResult> results = PhasedProgress.Run(context, progress =>
            PruningGuard.Run(() => new Evaluator(loaded, options).Evaluate(documents, configurations,
                new Progress<double>(f => progress.Report(new ProgressUpdate("evaluating", f))), interrupt.Token)));
        EvaluationTable.Write(context, $"Held-out evaluation of {Path.GetFileName(Path.GetFullPath(modelDir))} on {Path.GetFileName(documents.Path)}", results);
        context.Out.WriteLine("Scored: the continuation tokens of each window (first by the prefill stage, the rest by decode), fp32.");
        return ExitCodes.Ok;
    }

    /// <summary>The unpruned model first, then what the options ask for (a plan with a KV policy: without, then with it).</summary>
    private static List<(string, StagedPruning)> Configurations(int[] skipBlocks, PrunePlan? plan, StageModels? healed)
    {
        var configurations = new List<(string, StagedPruning)> { ("unpruned", StagedPruning.Unpruned) };
        if (skipBlocks.Length > 0)
            configurations.Add(($"skip {string.Join(',', skipBlocks)}", StagedPruning.Uniform(skipBlocks)));
        if (plan is not null)
        {
            var staged = StagedPruning.FromPlan(plan) with { Models = healed };
            string blocks = $"plan{(healed is null ? "" : " (healed)")}: prefill skips [{string.Join(',', plan.PrefillSkip.Order())}], decode skips [{string.Join(',', plan.DecodeSkip.Order())}]";
            configurations.Add((blocks, staged.WithoutKvPolicy()));
            if (plan.Kv.SelectedLayers.Count > 0)
                configurations.Add(($"{blocks} + KV first {plan.Kv.First}/last {plan.Kv.Last} in layers [{string.Join(',', plan.Kv.SelectedLayers.Order())}]", staged));
        }
        return configurations;
    }

    private static void CheckBlocks(StagedPruning pruning, int numBlocks)
    {
        foreach (int block in pruning.DecodeSkip)
        {
            if (block >= numBlocks) throw new CliError($"--skip-blocks: block {block} is out of range: the model has blocks 0..{numBlocks - 1}");
        }
        if (pruning.DecodeSkip.Count >= numBlocks) throw new CliError($"--skip-blocks: cannot skip all {numBlocks} blocks");
    }
}
