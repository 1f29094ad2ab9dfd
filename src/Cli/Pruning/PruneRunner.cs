using PdServe.Cli.Evaluation;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;
using PdServe.Engine;
using PdServe.Training.Corpus;
using PdServe.Engine.Loading;
using PdServe.Pruning;
using PdServe.Pruning.Evaluation;
using PdServe.Pruning.Healing;
using PdServe.Pruning.Search;
using PdServe.Engine.Planning;
using Spectre.Console;
using System.Text.Json.Nodes;

namespace PdServe.Cli.Pruning;

/// <summary>
/// Runs <c>pdserve prune</c>: refuses what it cannot use before the model loads, searches the plan, writes and summarises
/// it, and with <c>--eval</c> scores it on held-out text (<see cref="PruneEvaluation"/>).
/// </summary>
public static class PruneRunner
{
    public static int Run(CliContext context, PruneRequest request)
    {
        // Everything that can be refused is refused before the model loads.
        CheckWritable(request.OutPath, "--out");
        TextDocuments calibration = DocumentsInput.Read(request.CalibPath, "--calib");
        TextDocuments? held = request.EvalPath is null ? null : DocumentsInput.Read(request.EvalPath, "--eval");
        if (held is not null && held.Sha256 == calibration.Sha256)
            throw new CliError("--eval: the held-out text is the calibration text; evaluate on text the search never saw");
        TextDocuments? healData = request.Heal is null ? null
            : request.HealDataPath is null ? calibration : DocumentsInput.Read(request.HealDataPath, "--heal-data");
        if (healData is not null && held is not null && healData.Sha256 == held.Sha256)
            throw new CliError("--heal-data: the distillation text is the held-out text; heal on text the evaluation never sees");
        ModelDirectory directory = ModelDirectory.Open(request.ModelDir);
        PruningGuard.Run(() =>
        {
            request.Options.Validate(directory.Config.NumLayers);
            return 0;
        });

        using var interrupt = new InterruptSignal();
        using LoadedModel loaded = LoadingProgress.Run(context, "loading model", progress => PruningModel.Load(request.ModelDir, progress));
        PruneOutcome outcome = PhasedProgress.Run(context, progress =>
            PruningGuard.Run(() => PruneSearch.Run(loaded, calibration, request.Options, progress, interrupt.Token)));
        interrupt.Token.ThrowIfCancellationRequested();
        // Healing on the calibration file passes over the tokens the block scores came from.
        HealingOptions? heal = request.Heal is { } asked
            ? healData!.Sha256 == calibration.Sha256 ? asked with { SkipLeadingTokens = request.Options.Calibration.MaxTokens } : asked
            : null;
        using HealingResult? healed = heal is null ? null
            : Heal(context, loaded, request.ModelDir, StagedPruning.FromPlan(outcome.Plan), healData!, heal, "", interrupt.Token);
        PrunePlan plan = healed is null ? outcome.Plan : WithHealedWeights(outcome.Plan, healed, heal!, request.OutPath, healData!);
        outcome = outcome with { Plan = plan };
        plan.Save(request.OutPath);
        PruneSummary.Write(context, outcome, request.OutPath);
        if (healed is not null)
            context.Out.WriteLine(FormattableString.Invariant(
                $"healed both stages in {healed.Steps} steps ({healed.TrainedTokens:N0} tokens, {healed.Seconds / 60:F1} min): held-back KL {healed.HeldLossBefore:F4} -> {healed.HeldLossAfter:F4}; weights in {plan.Healed!.Prefill.File} and {plan.Healed.Decode.File}"));

        if (held is not null)
            PruneEvaluation.Run(context, loaded, held, outcome, request, healed is null ? null : (healed, healData!, heal!), interrupt.Token);
        return ExitCodes.Ok;
    }

    /// <summary>Heals one configuration with a progress display; <paramref name="label"/> prefixes its phase (the baseline's).</summary>
    public static HealingResult Heal(CliContext context, LoadedModel loaded, string modelDir, StagedPruning pruning, TextDocuments data,
        HealingOptions options, string label, CancellationToken cancellation) =>
        PhasedProgress.Run(context, progress => PruningGuard.Run(() => StageHealer.Heal(loaded, modelDir, pruning, data, options,
            new Progress<ProgressUpdate>(u => progress.Report(u with { Phase = label + u.Phase })), cancellation)));

    private static PrunePlan WithHealedWeights(PrunePlan plan, HealingResult healed, HealingOptions heal, string planPath, TextDocuments healData)
    {
        var distillation = new JsonObject
        {
            ["data"] = Path.GetFileName(healData.Path),
            ["data_sha256"] = healData.Sha256,
            ["skipped_leading_tokens"] = heal.SkipLeadingTokens,
            ["minutes"] = heal.Minutes,
            ["steps"] = healed.Steps,
            ["tokens"] = healed.TrainedTokens,
            ["seconds"] = Math.Round(healed.Seconds, 1),
            ["window_tokens"] = heal.WindowTokens,
            ["prompt_tokens"] = heal.PromptTokens,
            ["batch"] = heal.BatchSize,
            ["learning_rate"] = heal.LearningRate,
            ["held_kl_before"] = Math.Round(healed.HeldLossBefore, 6),
            ["held_kl_after"] = Math.Round(healed.HeldLossAfter, 6),
            ["loss"] = "KL(unpruned || staged), prefill stage writes the prompt KV through the plan's policy, decode stage reads it",
        };
        return plan with
        {
            Healed = new PrunePlan.HealedSection
            {
                Prefill = HealedWeightsFile.Write(planPath, "prefill", healed.Models.Prefill, plan.PrefillSkipSet),
                Decode = HealedWeightsFile.Write(planPath, "decode", healed.Models.Decode, plan.DecodeSkipSet),
                Distillation = distillation,
            },
        };
    }

    private static void CheckWritable(string path, string option)
    {
        string? parent = Path.GetDirectoryName(Path.GetFullPath(path));
        if (parent is not null && !Directory.Exists(parent)) throw new CliError($"{option}: directory '{parent}' does not exist");
        if (Directory.Exists(path)) throw new CliError($"{option}: '{path}' is a directory");
    }
}
