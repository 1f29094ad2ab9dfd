using PdServe.Cli.Terminal;
using PdServe.Engine;
using PdServe.Engine.FastPath;
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
    /// <param name="int8Decode">Also score every configuration with its decode stage on the fused kernel's int8 weights.</param>
    public static int Run(CliContext context, string modelDir, TextDocuments documents, int[] skipBlocks, PrunePlan? plan, EvaluationOptions options,
        bool int8Decode = false)
    {
        using var interrupt = new InterruptSignal();
        using LoadedModel loaded = LoadingProgress.Run(context, "loading model", progress => PruningModel.Load(modelDir, progress));
        // A healed plan is scored as its nodes run it: each stage on its own healed weights.
        using LoadedModel? healedPrefill = plan?.HealedFile(prefill: true) is { } prefillFile
            ? LoadingProgress.Run(context, "loading the healed prefill stage", progress => PruningModel.Load(modelDir, progress, prefillFile)) : null;
        string? healedDecodeFile = plan?.HealedFile(prefill: false);
        using LoadedModel? healedDecode = healedDecodeFile is not null
            ? LoadingProgress.Run(context, "loading the healed decode stage", progress => PruningModel.Load(modelDir, progress, healedDecodeFile)) : null;
        StageModels? healed = healedPrefill is not null && healedDecode is not null ? new StageModels(healedPrefill.Model, healedDecode.Model) : null;
        // The decode stage as --fast-weights int8 serves it: the decode weights (the base ones, and a healed plan's own)
        // quantized as the fused kernel packs them.
        using LoadedModel? int8 = int8Decode
            ? LoadingProgress.Run(context, "loading the int8 decode stage", progress => PruningModel.Load(modelDir, progress, int8RoundTrip: true))
            : null;
        // Configurations run healed weights only when both stages are healed, so only then is a healed int8 stage loaded.
        using LoadedModel? int8Healed = int8Decode && healed is not null
            ? LoadingProgress.Run(context, "loading the healed int8 decode stage",
                progress => PruningModel.Load(modelDir, progress, healedDecodeFile, int8RoundTrip: true))
            : null;
        List<(string, StagedPruning)> configurations = Configurations(skipBlocks, plan, healed);
        if (int8 is not null)
        {
            configurations.AddRange(configurations.ToList().Select(c =>
            {
                StageModels? own = c.Item2.Models;
                var models = new StageModels(own?.Prefill ?? loaded.Model, own is null ? int8.Model : int8Healed!.Model);
                return ($"{c.Item1}, decode int8", c.Item2 with { Models = models });
            }));
        }
        foreach ((_, StagedPruning pruning) in configurations) CheckBlocks(pruning, loaded.Model.Config.NumLayers);
        IReadOnlyList<EvaluationResult> results = PhasedProgress.Run(context, progress =>
            PruningGuard.Run(() => new Evaluator(loaded, options).Evaluate(documents, configurations,
                new Progress<double>(f => progress.Report(new ProgressUpdate("evaluating", f))), interrupt.Token)));
        EvaluationTable.Write(context, $"Held-out evaluation of {Path.GetFileName(Path.GetFullPath(modelDir))} on {Path.GetFileName(documents.Path)}", results);
        context.Out.WriteLine("Scored: the continuation tokens of each window (first by the prefill stage, the rest by decode), fp32" +
                              (int8 is null ? "." : $"; \"decode int8\" rows decode with the int8 weights, dequantized (per group of {PackedWeights.DefaultGroupSize} inputs, as the decode nodes' fused kernel holds them)."));
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
