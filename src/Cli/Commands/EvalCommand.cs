using System.CommandLine;
using PdServe.Engine;
using PdServe.Engine.Planning;
using PdServe.Pruning;
using PdServe.Pruning.Evaluation;
using PdServe.Training.Corpus;
using Spectre.Console;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve eval --model DIR --data FILE [--skip-blocks LIST | --plan FILE] [--max-tokens N]</c>: perplexity of the
/// model on held-out text, and of the pruned configuration with its top-1 agreement with the unpruned model.
/// </summary>
public static class EvalCommand
{
    public static Command Create(CliContext context)
    {
        var model = DefaultModel.Option();
        var data = new Option<string>("--data")
        {
            Description = "Held-out text: documents separated by blank lines",
            HelpName = "FILE",
            Required = true,
        };
        var skipBlocks = BlockListOptions.Create("--skip-blocks", "Also score the model with these decoder blocks skipped by both stages, e.g. 3,5");
        var plan = PlanOptions.Create();
        var maxTokens = OptionChecks.OptionalLong("--max-tokens", "Stop after scoring this many tokens (default: the whole file)")
            .Require(n => n is null or >= 1, "an integer >= 1");
        var window = OptionChecks.OptionalLong("--window", "Window length in tokens (default: the model's context)")
            .Require(n => n is null or >= 2, "an integer >= 2");
        var promptTokens = OptionChecks.OptionalLong("--prompt-tokens",
                "Tokens at the start of each window that the prefill stage processes; the rest are scored (default: half the window)")
            .Require(n => n is null or >= 1, "an integer >= 1");
        var threads = OptionChecks.Threads();

        var command = new Command("eval", "Perplexity and top-1 agreement on held-out text, unpruned and pruned")
        {
            model, data, skipBlocks, plan, maxTokens, window, promptTokens, threads,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(skipBlocks) is not null && result.GetResult(plan) is not null)
                result.AddError("--skip-blocks and --plan are mutually exclusive; give one");
        });
        command.SetAction(parseResult =>
        {
            TorchThreads.Apply(parseResult.GetValue(threads));
            string modelDir = parseResult.GetRequiredValue(model);
            string? planPath = parseResult.GetValue(plan);
            PrunePlan? prunePlan = planPath is null ? null : PlanOptions.LoadFor(planPath, modelDir);
            TextDocuments documents = DocumentsInput.Read(parseResult.GetRequiredValue(data), "--data");
            var options = new EvaluationOptions
            {
                MaxTokens = parseResult.GetValue(maxTokens),
                WindowTokens = (int?)parseResult.GetValue(window),
                PromptTokens = (int?)parseResult.GetValue(promptTokens),
            };
            return Run(context, modelDir, documents, Configurations(parseResult.GetValue(skipBlocks) ?? [], prunePlan), options);
        });
        return command;
    }

    /// <summary>The unpruned model first, then what the options ask for (a plan with a KV policy: without, then with it).</summary>
    private static List<(string, StagedPruning)> Configurations(int[] skipBlocks, PrunePlan? plan)
    {
        var configurations = new List<(string, StagedPruning)> { ("unpruned", StagedPruning.Unpruned) };
        if (skipBlocks.Length > 0)
            configurations.Add(($"skip {string.Join(',', skipBlocks)}", StagedPruning.Uniform(skipBlocks)));
        if (plan is not null)
        {
            var staged = StagedPruning.FromPlan(plan);
            string blocks = $"plan: prefill skips [{string.Join(',', plan.PrefillSkip.Order())}], decode skips [{string.Join(',', plan.DecodeSkip.Order())}]";
            configurations.Add((blocks, staged.WithoutKvPolicy()));
            if (plan.Kv.SelectedLayers.Count > 0)
                configurations.Add(($"{blocks} + KV first {plan.Kv.First}/last {plan.Kv.Last} in layers [{string.Join(',', plan.Kv.SelectedLayers.Order())}]", staged));
        }
        return configurations;
    }

    private static int Run(CliContext context, string modelDir, TextDocuments documents, List<(string, StagedPruning)> configurations,
        EvaluationOptions options)
    {
        using var interrupt = new InterruptSignal();
        using LoadedModel loaded = LoadingProgress.Run(context, "loading model", progress => PruningModel.Load(modelDir, progress));
        foreach ((_, StagedPruning pruning) in configurations) CheckBlocks(pruning, loaded.Model.Config.NumLayers);
        IReadOnlyList<EvaluationResult> results = PhasedProgress.Run(context, progress =>
            Guard(() => new Evaluator(loaded, options).Evaluate(documents, configurations,
                new Progress<double>(f => progress.Report(new ProgressUpdate("evaluating", f))), interrupt.Token)));
        EvaluationTable.Write(context, $"Held-out evaluation of {Path.GetFileName(Path.GetFullPath(modelDir))} on {Path.GetFileName(documents.Path)}", results);
        context.Out.WriteLine("Scored: the continuation tokens of each window (first by the prefill stage, the rest by decode), fp32.");
        return ExitCodes.Ok;
    }

    private static void CheckBlocks(StagedPruning pruning, int numBlocks)
    {
        foreach (int block in pruning.DecodeSkip)
        {
            if (block >= numBlocks) throw new CliError($"--skip-blocks: block {block} is out of range: the model has blocks 0..{numBlocks - 1}");
        }
        if (pruning.DecodeSkip.Count >= numBlocks) throw new CliError($"--skip-blocks: cannot skip all {numBlocks} blocks");
    }

    /// <summary>Runs pruning work, turning input it cannot use into a usage error.</summary>
    public static T Guard<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (PruningInputException e)
        {
            throw new CliError(e.Message, e);
        }
    }
}
