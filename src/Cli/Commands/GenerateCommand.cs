using System.CommandLine;
using PdServe.Cli.Generation;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Commands;

/// <summary><c>pdserve generate --model DIR --prompt TEXT [...]</c>: complete one prompt.</summary>
public static class GenerateCommand
{
    public static Command Create(CliContext context)
    {
        var model = DefaultModel.Option();
        var prompt = new Option<string>("--prompt")
        {
            Description = "Prompt text",
            HelpName = "TEXT",
            Required = true,
        };
        var maxTokens = OptionChecks.Int("--max-tokens", GenerateOptions.DefaultMaxTokens, "Maximum number of tokens to generate")
            .Require(n => n >= 1, "an integer >= 1");
        var temperature = OptionChecks.Double("--temperature", GenerateOptions.DefaultTemperature, "Sampling temperature; 0 is greedy", "T")
            .Require(t => t >= 0, ">= 0");
        var topP = OptionChecks.Double("--top-p", 1.0, "Nucleus sampling: keep the smallest set of tokens with this probability mass (1 = off)", "P")
            .Require(p => p > 0 && p <= 1, "in (0, 1]");
        var topK = OptionChecks.Int("--top-k", 0, "Keep only the K most likely tokens (0 = off)", "K")
            .Require(k => k >= 0, "an integer >= 0");
        var seed = OptionChecks.OptionalLong("--seed", "Random seed for sampling (default: nondeterministic)", "S");
        var skipBlocks = BlockListOptions.Create("--skip-blocks", "Comma-separated decoder block indices to skip, e.g. 3,5");
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of streaming text" };
        var threads = OptionChecks.Threads();
        var prefillDtype = WeightDtypeOptions.Prefill();
        var decodeDtype = WeightDtypeOptions.Decode();
        var plan = PlanOptions.Create();
        plan.Description += " (one process: the decode stage's blocks run the whole request)";
        var kernel = DecodeKernelOptions.Kernel();
        var fastWeights = DecodeKernelOptions.Weights();

        var command = new Command("generate", "Generate a completion for a prompt")
        {
            model, prompt, maxTokens, temperature, topP, topK, seed, skipBlocks, json, threads, prefillDtype, decodeDtype, plan, kernel, fastWeights,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(skipBlocks) is not null && result.GetResult(plan) is not null)
                result.AddError("--skip-blocks and --plan are mutually exclusive; give one");
        });
        command.SetAction(parseResult =>
        {
            var decodeKernel = DecodeKernelOptions.ParseKernel(parseResult.GetValue(kernel)!);
            var options = new GenerateOptions
            {
                DecodeKernel = decodeKernel,
                FastWeights = DecodeKernelOptions.ParseWeights(parseResult.GetValue(fastWeights)!, decodeKernel),
                ModelDir = parseResult.GetRequiredValue(model),
                Prompt = parseResult.GetRequiredValue(prompt),
                MaxTokens = parseResult.GetValue(maxTokens),
                Temperature = parseResult.GetValue(temperature),
                TopP = parseResult.GetValue(topP),
                TopK = parseResult.GetValue(topK),
                Seed = parseResult.GetValue(seed),
                SkipBlocks = parseResult.GetValue(skipBlocks) ?? [],
                Json = parseResult.GetValue(json),
                Threads = parseResult.GetValue(threads),
                PrefillDtype = WeightDtypeOptions.Parse(parseResult.GetValue(prefillDtype)!)!.Value,
                DecodeDtype = WeightDtypeOptions.Parse(parseResult.GetValue(decodeDtype)!),
                Plan = parseResult.GetValue(plan) is { } planPath ? PlanOptions.LoadFor(planPath, parseResult.GetRequiredValue(model)) : null,
            };
            TorchThreads.Apply(options.Threads);
            return GenerateRunner.Run(options, context);
        });
        return command;
    }
}
