using System.Globalization;
using System.CommandLine;
using PdServe.Cli.Options;
using PdServe.Cli.Pruning;
using PdServe.Cli.Terminal;
using PdServe.Pruning.Calibration;
using PdServe.Pruning.Healing;
using PdServe.Pruning.KvSelection;
using PdServe.Pruning.Search;
using PdServe.Training.Corpus;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve prune --model DIR --calib FILE --prefill-skip K_P --decode-skip K_D [...] --out plan.json [--eval FILE]</c>:
/// searches the blocks each stage skips and the KV layers, writes the plan, and with <c>--eval</c> adds a quality
/// report entry (unpruned, ShortGPT, the plan, the plan with its KV policy) under <c>--report DIR</c>.
/// </summary>
public static class PruneCommand
{
    public const string DefaultReportDirectory = "bench/pruning";

    public static Command Create(CliContext context)
    {
        var model = DefaultModel.Option();
        var calib = new Option<string>("--calib") { Description = "Calibration text: documents separated by blank lines", HelpName = "FILE", Required = true };
        var prefillSkip = new Option<string>("--prefill-skip")
        {
            Description = "K_P: blocks the prefill stage skips, or auto: the most (up to K_D) whose greedy removal keeps the prefill " +
                          "objective within --prefill-kl-budget",
            HelpName = "K_P|auto",
            DefaultValueFactory = _ => "0",
        }.Require(text => text == "auto" || (int.TryParse(text, out int k) && k >= 0), "auto or an integer >= 0");
        var prefillBudget = OptionChecks.Double("--prefill-kl-budget", 0.05,
                "With --prefill-skip auto: the largest prefill objective (mean KL over prompt positions, nats) the removed blocks may cost", "KL")
            .Require(x => x > 0, "> 0");
        var decodeSkip = OptionChecks.Int("--decode-skip", 0, "K_D: blocks the decode stage skips (>= K_P; includes the prefill set)", "K_D")
            .Require(n => n >= 0, "an integer >= 0");
        var kvLayers = new Option<string>("--kv-layers")
        {
            Description = "Layers whose prompt KV decode keeps only at the first/last positions: auto (coverage threshold, confirmed by " +
                          "measured loss), N (the N best covered), a list such as 3,5,7 (one layer: 5,), or none",
            HelpName = "auto|N|LIST",
            DefaultValueFactory = _ => "auto",
        }.Require(text => KvLayerRequest.TryParse(text, out _), "auto, none, a count or a comma-separated list of layers");
        var defaults = new CalibrationOptions();
        var kvFirst = KvWindowOptions.First();
        var kvLast = KvWindowOptions.Last();
        var seed = OptionChecks.Int("--seed", 0, "Seed of the annealing moves", "S");
        var iterations = OptionChecks.Int("--iterations", 40, "Simulated-annealing moves per stage", "I").Require(n => n >= 0, "an integer >= 0");
        var promptTokens = OptionChecks.Int("--prompt-tokens", defaults.PromptTokens, "Prompt tokens of each calibration sample").Require(n => n >= 1, "an integer >= 1");
        var continuationTokens = OptionChecks.Int("--continuation-tokens", defaults.ContinuationTokens, "Continuation tokens of each calibration sample")
            .Require(n => n >= 2, "an integer >= 2");
        var calibTokens = OptionChecks.Int("--calib-tokens", (int)defaults.MaxTokens, "Calibration tokens used at most").Require(n => n >= 1, "an integer >= 1");
        var similarity = OptionChecks.Double("--similarity-threshold", 0.95, "d_T: blocks at least this similar form the pruning set", "D")
            .Require(d => d is >= -1 and <= 1, "in [-1, 1]");
        var output = new Option<string>("--out") { Description = "Where to write the plan (JSON)", HelpName = "FILE", Required = true };
        var eval = new Option<string>("--eval") { Description = "Held-out text for the quality report (never the calibration text)", HelpName = "FILE" };
        var evalPromptTokens = OptionChecks.Int("--eval-prompt-tokens", 0,
                "Prompt tokens of each held-out window, the rest of the model's context being the scored continuation (0: --prompt-tokens)")
            .Require(n => n >= 0, "an integer >= 0");
        var evalTokens = OptionChecks.OptionalLong("--eval-tokens", "Score at most this many held-out tokens (default: all)")
            .Require(n => n is null or >= 1, "an integer >= 1");
        var report = new Option<string>("--report")
        {
            Description = $"Folder of the quality report that --eval adds to (default: {DefaultReportDirectory})",
            HelpName = "DIR",
            DefaultValueFactory = _ => DefaultReportDirectory,
        };
        var healDefaults = new HealingOptions();
        var heal = OptionChecks.Double("--heal", 0,
                "After the search, heal each stage's kept blocks for M minutes by distillation from the unpruned model, in the staged computation (0 = off)", "M")
            .Require(m => m >= 0, ">= 0");
        var healData = new Option<string>("--heal-data")
        {
            Description = "Distillation text (documents separated by blank lines); default: the calibration text past the tokens the search scored",
            HelpName = "FILE",
        };
        var healWindow = OptionChecks.Int("--heal-window", healDefaults.WindowTokens, "Tokens per distillation window; its first half is the prompt", "T")
            .Require(n => n >= 4, "an integer >= 4");
        var healLr = OptionChecks.Double("--heal-lr", healDefaults.LearningRate, "Peak learning rate of the healing", "LR").Require(x => x > 0, "> 0");
        var healSteps = OptionChecks.Int("--heal-steps", 0, "Stop healing after this many steps even with time left (0 = the time budget alone)", "S")
            .Require(n => n >= 0, "an integer >= 0");
        var threads = OptionChecks.Threads();

        var command = new Command("prune", "Search the blocks each stage skips and the KV layers; write a prune plan")
        {
            model, calib, prefillSkip, prefillBudget, decodeSkip, kvLayers, kvFirst, kvLast, seed, iterations, promptTokens, continuationTokens, calibTokens,
            similarity, output, eval, evalPromptTokens, evalTokens, report, heal, healData, healWindow, healLr, healSteps, threads,
        };
        command.SetAction(parseResult =>
        {
            TorchThreads.Apply(parseResult.GetValue(threads));
            KvLayerRequest.TryParse(parseResult.GetValue(kvLayers)!, out KvLayerRequest kvRequest);
            string prefillCount = parseResult.GetValue(prefillSkip)!;
            bool prefillAuto = prefillCount == "auto";
            var options = new PruneOptions
            {
                PrefillSkip = prefillAuto ? parseResult.GetValue(decodeSkip) : int.Parse(prefillCount, CultureInfo.InvariantCulture),
                PrefillKlBudget = prefillAuto ? parseResult.GetValue(prefillBudget) : null,
                DecodeSkip = parseResult.GetValue(decodeSkip),
                KvLayers = kvRequest,
                Seed = parseResult.GetValue(seed),
                Iterations = parseResult.GetValue(iterations),
                SimilarityThreshold = parseResult.GetValue(similarity),
                Calibration = new CalibrationOptions
                {
                    PromptTokens = parseResult.GetValue(promptTokens),
                    ContinuationTokens = parseResult.GetValue(continuationTokens),
                    MaxTokens = parseResult.GetValue(calibTokens),
                    First = parseResult.GetValue(kvFirst),
                    Last = parseResult.GetValue(kvLast),
                },
            };
            double healMinutes = parseResult.GetValue(heal);
            int maxHealSteps = parseResult.GetValue(healSteps);
            int window = parseResult.GetValue(healWindow);
            HealingOptions? healing = healMinutes > 0 || maxHealSteps > 0
                ? healDefaults with
                {
                    Minutes = healMinutes,
                    MaxSteps = maxHealSteps,
                    WindowTokens = window,
                    PromptTokens = window / 2,
                    LearningRate = parseResult.GetValue(healLr),
                    Seed = parseResult.GetValue(seed),
                }
                : null;
            return PruneRunner.Run(context, new PruneRequest(parseResult.GetRequiredValue(model), parseResult.GetRequiredValue(calib), parseResult.GetRequiredValue(output),
                parseResult.GetValue(eval), parseResult.GetValue(evalTokens), parseResult.GetValue(report)!, options, CliIdentity.Name + " " + string.Join(' ', parseResult.Tokens.Select(t => t.Value)))
            {
                Heal = healing,
                HealDataPath = parseResult.GetValue(healData),
                EvalPromptTokens = parseResult.GetValue(evalPromptTokens) is > 0 and int evalPrompt ? evalPrompt : null,
            });
        });
        return command;
    }
}
