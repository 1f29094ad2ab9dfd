using System.CommandLine;
using PdServe.Cli.Evaluation;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;
using PdServe.Engine.Planning;
using PdServe.Pruning.Evaluation;
using PdServe.Training.Corpus;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve eval --model DIR --data FILE [--skip-blocks LIST | --plan FILE] [--max-tokens N] [--fast-weights int8]</c>:
/// perplexity of the model on held-out text, and of the pruned (or int8-decoded) configuration with its top-1
/// agreement with the unpruned model.
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
        var fastWeights = DecodeKernelOptions.Weights();
        fastWeights.Description = "auto: score the decode stage in fp32; int8: also score it with the fused kernel's int8 weights " +
                                  "(quantized per group of 64 inputs as the decode nodes quantize them), against fp32";

        var command = new Command("eval", "Perplexity and top-1 agreement on held-out text, unpruned and pruned")
        {
            model, data, skipBlocks, plan, maxTokens, window, promptTokens, threads, fastWeights,
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
            bool int8Decode = parseResult.GetValue(fastWeights) == "int8";
            return EvalRunner.Run(context, modelDir, documents, parseResult.GetValue(skipBlocks) ?? [], prunePlan, options, int8Decode);
        });
        return command;
    }
}
