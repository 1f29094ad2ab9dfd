using System.CommandLine;
using PdServe.Cli.Benchmarking.Pruning;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve bench pruning</c>: bench/pruning/REPORT.md in one command — a plan search per K_D (K_P chosen by the
/// search), the quality rows with and without healing and the KV policy, every stage's speed and the KV bytes per
/// request measured through <c>pdserve up --plan</c> (<see cref="PruningBenchRunner"/>).
/// </summary>
public static class BenchPruningCommand
{
    public static Command Create(CliContext context)
    {
        var model = DefaultModel.Option();
        var calib = new Option<string>("--calib") { Description = "Calibration text (the search's)", HelpName = "FILE", Required = true };
        var heldout = new Option<string>("--heldout") { Description = "Held-out text for the quality rows", HelpName = "FILE", Required = true };
        var decodeSkips = new Option<string>("--decode-skips") { Description = "K_D values, one plan each", HelpName = "LIST", DefaultValueFactory = _ => "2,4,6,8" }
            .Require(text => IntegerList.TryParse(text, out int[] values) && values.All(v => v >= 1), "a comma-separated list of integers >= 1");
        var prefillBudget = OptionChecks.Double("--prefill-kl-budget", 0.05, "The prefill objective the search may spend on K_P (prune's option)", "KL")
            .Require(x => x > 0, "> 0");
        var heal = OptionChecks.Double("--heal", 0, "Healing minutes per configuration (0: none)", "MINUTES").Require(x => x >= 0, ">= 0");
        var healData = new Option<string>("--heal-data") { Description = "Distillation text (default: the calibration text past the scored part)", HelpName = "FILE" };
        var evalPrompt = OptionChecks.Int("--eval-prompt-tokens", 0, "Prompt tokens of each held-out window (0: the model's context less 64)")
            .Require(n => n >= 0, "an integer >= 0");
        var evalTokens = OptionChecks.OptionalLong("--eval-tokens", "Score at most this many held-out tokens per configuration");
        var rounds = OptionChecks.Int("--speed-rounds", 3, "Interleaved bench engine rounds (medians)").Require(n => n >= 1, "an integer >= 1");
        var kvLengths = new Option<string>("--kv-prompt-lengths") { Description = "Prompt lengths of the measured KV bytes", HelpName = "LIST", DefaultValueFactory = _ => "512,1024,2047" }
            .Require(text => IntegerList.TryParse(text, out int[] values) && values.All(v => v >= 1), "a comma-separated list of integers >= 1");
        var port = OptionChecks.Int("--port", 8450, "Gateway port of the measuring clusters", "PORT").Require(p => p is >= 1 and <= 65535, "a port (1-65535)");
        var seed = OptionChecks.Int("--seed", 0, "Seed of the searches and the measured prompts", "S");
        var calibrationPrompt = OptionChecks.Int("--prompt-tokens", 0, "Prompt tokens of each calibration sample (0: prune's default)").Require(n => n >= 0, "an integer >= 0");
        var calibrationContinuation = OptionChecks.Int("--continuation-tokens", 0, "Continuation tokens of each calibration sample (0: prune's default)")
            .Require(n => n >= 0, "an integer >= 0");
        var kvFirst = KvWindowOptions.First();
        var kvLast = KvWindowOptions.Last();
        var iterations = OptionChecks.Int("--iterations", 0, "Annealing moves per stage (0: prune's default)", "I").Require(n => n >= 0, "an integer >= 0");
        var smoke = new Option<bool>("--smoke") { Description = "Tiny bench engine sizes (tests only)", Hidden = true };
        var outDir = new Option<string>("--out-dir") { Description = "Report folder", HelpName = "DIR", DefaultValueFactory = _ => "bench/pruning" };
        var command = new Command("pruning", "Regenerate the pruning report: plans per K_D, quality with healing and the KV policy, stage speeds, measured KV bytes")
        {
            model, calib, heldout, decodeSkips, prefillBudget, heal, healData, evalPrompt, evalTokens, rounds, kvLengths, port, seed, calibrationPrompt, calibrationContinuation,
            kvFirst, kvLast, iterations, smoke, outDir,
        };
        command.SetAction((parseResult, cancellation) =>
        {
            IntegerList.TryParse(parseResult.GetValue(decodeSkips)!, out int[] skips);
            IntegerList.TryParse(parseResult.GetValue(kvLengths)!, out int[] lengths);
            return PruningBenchRunner.RunAsync(new PruningBenchOptions
            {
                ModelDir = parseResult.GetRequiredValue(model),
                CalibPath = parseResult.GetRequiredValue(calib),
                HeldoutPath = parseResult.GetRequiredValue(heldout),
                DecodeSkips = skips,
                PrefillKlBudget = parseResult.GetValue(prefillBudget),
                HealMinutes = parseResult.GetValue(heal),
                HealDataPath = parseResult.GetValue(healData),
                EvalPromptTokens = parseResult.GetValue(evalPrompt) is > 0 and int prompt ? prompt : null,
                EvalTokens = parseResult.GetValue(evalTokens),
                SpeedRounds = parseResult.GetValue(rounds),
                KvPromptLengths = lengths,
                Port = parseResult.GetValue(port),
                Seed = parseResult.GetValue(seed),
                CalibrationPromptTokens = parseResult.GetValue(calibrationPrompt) is > 0 and int p ? p : null,
                CalibrationContinuationTokens = parseResult.GetValue(calibrationContinuation) is > 0 and int c ? c : null,
                KvFirst = parseResult.GetValue(kvFirst),
                KvLast = parseResult.GetValue(kvLast),
                Iterations = parseResult.GetValue(iterations) is > 0 and int i ? i : null,
                Smoke = parseResult.GetValue(smoke),
                OutDir = parseResult.GetValue(outDir)!,
                CommandLine = CliIdentity.Name + " " + string.Join(' ', parseResult.Tokens.Select(t => t.Value)),
            }, context, cancellation);
        });
        return command;
    }
}
