using System.Text.Json.Nodes;
using PdServe.Engine;
using PdServe.Engine.Planning;
using PdServe.Pruning.Calibration;
using PdServe.Pruning.KvSelection;
using PdServe.Pruning.Objectives;
using PdServe.Training.Corpus;

namespace PdServe.Pruning.Search;

/// <summary>
/// The prune-plan search (DESIGN.md, issue 6): calibration of the unpruned model; candidate sets by similarity;
/// greedy removal then annealing for the prefill stage (objective over prompt positions); greedy removal starting
/// from the prefill set then annealing over the blocks beyond it for the decode stage (objective over continuation
/// positions, reading the prefill stage's KV), so prefill_skip ⊆ decode_skip by construction; then the KV layers.
/// </summary>
public static class PruneSearch
{
    public static PruneOutcome Run(LoadedModel model, TextDocuments calibrationText, PruneOptions options,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellation = default)
    {
        int blocks = model.Model.Config.NumLayers;
        options.Validate(blocks);
        IProgress<double> Phase(string name) => new InlineProgress(f => progress?.Report(new ProgressUpdate(name, f)));

        using CalibrationSet samples = CalibrationSet.Build(model, calibrationText, options.Calibration);
        using CalibrationResult calibration = BlockCalibration.Run(model.Model, samples, Phase("calibration"), cancellation);
        using var objective = new StageObjective(model.Model, samples, calibration);
        int[] all = Enumerable.Range(0, blocks).ToArray();
        var none = new HashSet<int>();

        (IReadOnlySet<int> prefillGreedySet, IReadOnlyList<GreedyRemoval.Step> prefillSteps) = GreedyRemoval.Run(none, all,
            options.PrefillSkip, objective.Prefill, Phase("prefill: greedy removal"), cancellation);
        if (options.PrefillKlBudget is { } budget)
        {
            // Greedy removal ran to the most K_P may be; keep the steps that stay within the budget.
            int chosen = prefillSteps.TakeWhile(step => step.Objective <= budget).Count();
            prefillSteps = prefillSteps.Take(chosen).ToArray();
            prefillGreedySet = prefillSteps.Select(step => step.Block).ToHashSet();
            options = options with { PrefillSkip = chosen };
        }
        SimulatedAnnealing.Result prefillAnnealing = SimulatedAnnealing.Refine(prefillGreedySet, none, all, options.Iterations,
            options.Seed, objective.Prefill, Phase("prefill: annealing"), cancellation);
        IReadOnlySet<int> prefillSkip = prefillAnnealing.Best;

        double DecodeObjective(IReadOnlySet<int> decodeSkip) => objective.Decode(prefillSkip, decodeSkip, KvPolicy.KeepAll).Kl;
        (IReadOnlySet<int> decodeGreedySet, IReadOnlyList<GreedyRemoval.Step> decodeSteps) = GreedyRemoval.Run(prefillSkip, all,
            options.DecodeSkip - options.PrefillSkip, DecodeObjective, Phase("decode: greedy removal"), cancellation);
        // A different stream than prefill's, still fixed by the seed.
        SimulatedAnnealing.Result decodeAnnealing = SimulatedAnnealing.Refine(decodeGreedySet, prefillSkip, all, options.Iterations,
            unchecked(options.Seed * 31 + 1), DecodeObjective, Phase("decode: annealing"), cancellation);
        IReadOnlySet<int> decodeSkip = decodeAnnealing.Best;

        KvLayerSelection.Result kv = KvLayerSelection.Select(options.KvLayers, calibration.Attention, prefillSkip, decodeSkip,
            options.Calibration.First, options.Calibration.Last, options.KvCoverageThreshold, options.KvPerplexityBudget, objective,
            Phase("KV layers"), cancellation);
        double bytesRatio = KvBytes.Ratio(blocks, decodeSkip, kv.Policy, samples.PromptTokens);
        IReadOnlyList<int> shortGpt = ShortGptBaseline.Ranking(calibration.Similarities);

        var evidence = new PruneEvidence(calibration.Similarities, calibration.Attention, prefillSteps, prefillAnnealing, decodeSteps,
            decodeAnnealing, kv, shortGpt, bytesRatio, samples.PromptTokens);
        PrunePlan plan = new()
        {
            ModelFingerprint = model.Directory.Fingerprint,
            NumBlocks = blocks,
            PrefillSkip = prefillSkip.Order().ToArray(),
            DecodeSkip = decodeSkip.Order().ToArray(),
            Kv = new PrunePlan.KvSection
            {
                SelectedLayers = kv.Policy.SelectedLayers.Order().ToArray(),
                First = kv.Policy.First,
                Last = kv.Policy.Last,
                WireDtype = "float32",
            },
            Calibration = PlanEvidence.Calibration(calibrationText, samples, options),
            Scores = PlanEvidence.Scores(evidence, options, objective.Evaluations),
        };
        plan.Validate();
        return new PruneOutcome(plan, evidence);
    }

    /// <summary>Calls back on the reporting thread (Progress&lt;T&gt; would post to the thread pool and reorder reports).</summary>
    private sealed class InlineProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
