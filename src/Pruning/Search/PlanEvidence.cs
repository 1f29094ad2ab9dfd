using System.Text.Json.Nodes;
using PdServe.Pruning.Calibration;
using PdServe.Pruning.KvSelection;
using PdServe.Training.Corpus;

namespace PdServe.Pruning.Search;

/// <summary>The plan's free-form "calibration" and "scores" sections: what was measured, on what, and every value the search used.</summary>
public static class PlanEvidence
{
    public static JsonObject Calibration(TextDocuments text, CalibrationSet samples, PruneOptions options) => new()
    {
        ["file"] = Path.GetFileName(text.Path),
        ["sha256"] = text.Sha256,
        ["samples"] = samples.Samples,
        ["tokens"] = samples.Tokens,
        ["prompt_tokens"] = options.Calibration.PromptTokens,
        ["continuation_tokens"] = options.Calibration.ContinuationTokens,
        ["seed"] = options.Seed,
        ["iterations"] = options.Iterations,
        ["similarity_threshold"] = options.SimilarityThreshold,
        ["kv_layers"] = options.KvLayers.ToString(),
        ["kv_coverage_threshold"] = options.KvCoverageThreshold,
        ["kv_perplexity_budget"] = options.KvPerplexityBudget,
        ["prefill_kl_budget"] = options.PrefillKlBudget,
        ["objective"] = "mean KL(unpruned || pruned) of next-token distributions, nats per position; prefill: prompt positions, " +
                        "decode: continuation positions with the prompt KV from the prefill stage",
        ["annealing"] = $"swap moves; Metropolis exp(-delta/T); T_i = T0*alpha^i, T0 = {SimulatedAnnealing.InitialTemperatureFraction} x start objective, " +
                        $"alpha = {SimulatedAnnealing.FinalTemperatureRatio}^(1/iterations); decode seed = seed*31+1",
        ["precision"] = "fp32",
    };

    public static JsonObject Scores(PruneEvidence evidence, PruneOptions options, int objectiveEvaluations)
    {
        double threshold = options.SimilarityThreshold;
        JsonArray Blocks(IEnumerable<int> blocks) => new(blocks.Order().Select(b => (JsonNode)b).ToArray());
        JsonObject CandidateSets(Func<BlockSimilarity, double> similarity) => new()
        {
            ["pruning"] = Blocks(evidence.Similarities.Where(s => similarity(s) >= threshold).Select(s => s.Block)),
            ["distillation"] = Blocks(evidence.Similarities.Where(s => similarity(s) < threshold).Select(s => s.Block)),
        };
        return new JsonObject
        {
            ["blocks"] = new JsonArray(evidence.Similarities.Select(s => (JsonNode)new JsonObject
            {
                ["block"] = s.Block,
                ["similarity_prompt"] = s.Prompt,
                ["similarity_continuation"] = s.Continuation,
                ["similarity_all"] = s.All,
                ["block_influence"] = s.BlockInfluence,
            }).ToArray()),
            ["candidate_sets"] = new JsonObject
            {
                ["threshold"] = threshold,
                ["prefill"] = CandidateSets(s => s.Prompt),
                ["decode"] = CandidateSets(s => s.Continuation),
            },
            ["attention"] = new JsonArray(evidence.Attention.Select(a => (JsonNode)new JsonObject
            {
                ["layer"] = a.Layer,
                ["first_share"] = a.First,
                ["last_share"] = a.Last,
                ["kept_share"] = a.Kept,
                ["prompt_share"] = a.Prompt,
                ["coverage"] = a.Coverage,
            }).ToArray()),
            ["prefill"] = Stage(evidence.PrefillGreedy, evidence.PrefillAnnealing),
            ["decode"] = Stage(evidence.DecodeGreedy, evidence.DecodeAnnealing),
            ["kv"] = Kv(evidence),
            ["shortgpt_ranking"] = new JsonArray(evidence.ShortGptRanking.Select(b => (JsonNode)b).ToArray()),
            ["objective_evaluations"] = objectiveEvaluations,
        };
    }

    private static JsonObject Stage(IReadOnlyList<GreedyRemoval.Step> greedy, SimulatedAnnealing.Result annealing) => new()
    {
        ["greedy"] = new JsonArray(greedy.Select(step => (JsonNode)new JsonObject
        {
            ["removed"] = step.Block,
            ["objective"] = step.Objective,
            ["candidates"] = new JsonObject(step.Candidates.Select(c =>
                new KeyValuePair<string, JsonNode?>(c.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), c.Value))),
        }).ToArray()),
        ["annealing"] = new JsonObject
        {
            ["start_objective"] = annealing.StartObjective,
            ["best_objective"] = annealing.BestObjective,
            ["best"] = new JsonArray(annealing.Best.Order().Select(b => (JsonNode)b).ToArray()),
            ["initial_temperature"] = annealing.InitialTemperature,
            ["cooling_factor"] = annealing.CoolingFactor,
            ["iterations"] = annealing.Iterations,
            ["accepted"] = annealing.Accepted,
            ["improvements"] = annealing.Improvements,
        },
        ["objective"] = annealing.BestObjective,
    };

    private static JsonObject Kv(PruneEvidence evidence) => new()
    {
        ["baseline_loss"] = evidence.Kv.BaselineLoss,
        ["final_loss"] = evidence.Kv.FinalLoss,
        ["final_kl"] = evidence.Kv.FinalKl,
        ["trials"] = new JsonArray(evidence.Kv.Trials.Select(t => (JsonNode)new JsonObject
        {
            ["layer"] = t.Layer,
            ["coverage"] = t.Coverage,
            ["loss"] = t.Loss,
            ["kl"] = t.Kl,
            ["kept"] = t.Kept,
        }).ToArray()),
        ["bytes_ratio"] = evidence.KvBytesRatio,
        ["bytes_ratio_prompt_tokens"] = evidence.PromptTokens,
        ["bytes_ratio_formula"] = "num_blocks*n / sum over layers decode runs of (selected ? min(n, first+last) : n)",
    };
}
