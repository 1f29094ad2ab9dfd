using System.CommandLine;
using PdServe.Benchmarking;
using PdServe.Cli.Benchmarking.Engine;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve bench engine [--model DIR | --shape NAME] [--threads N] [--json FILE]</c>: measures this machine's
/// ceilings (memory bandwidth, GEMM, GEMV), then, with a model or shape, the engine's throughput against them.
/// </summary>
public static class BenchEngineCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Option<string>("--model")
        {
            Description = "Benchmark this Hugging Face model directory",
            HelpName = "DIR",
        }.ExistingDirectory();
        var shape = new Option<string>("--shape")
        {
            Description = $"Benchmark a named model shape with random weights ({string.Join(", ", ModelShapes.Names)})",
            HelpName = "NAME",
        }.Require(name => ModelShapes.TryGet(name, out _), $"one of: {string.Join(", ", ModelShapes.Names)}");
        var threads = OptionChecks.Threads();
        var json = new Option<string>("--json")
        {
            Description = "Also write the results to this JSON file",
            HelpName = "FILE",
        };
        var smoke = new Option<bool>("--smoke") { Description = "Tiny sizes (tests only)", Hidden = true };
        var prefillDtype = WeightDtypeOptions.Prefill();
        var decodeDtype = WeightDtypeOptions.Decode();
        var plan = PlanOptions.Create();

        var command = new Command("engine", "Measure machine ceilings and, with --model/--shape, engine throughput")
        {
            model, shape, threads, json, smoke, prefillDtype, decodeDtype, plan,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(model) is not null && result.GetResult(shape) is not null)
                result.AddError("--model and --shape are mutually exclusive; give one");
            if (result.GetResult(plan) is not null && result.GetResult(model) is null)
                result.AddError("--plan needs --model: a plan belongs to one model's weights");
        });
        command.SetAction(parseResult => BenchEngineRunner.Run(new BenchEngineOptions
        {
            ModelDir = parseResult.GetValue(model),
            Plan = parseResult.GetValue(plan) is { } planPath ? PlanOptions.LoadFor(planPath, parseResult.GetValue(model)!) : null,
            ShapeName = parseResult.GetValue(shape),
            Threads = parseResult.GetValue(threads),
            JsonPath = parseResult.GetValue(json),
            Smoke = parseResult.GetValue(smoke),
            PrefillDtype = WeightDtypeOptions.Parse(parseResult.GetValue(prefillDtype)!)!.Value,
            DecodeDtype = WeightDtypeOptions.Parse(parseResult.GetValue(decodeDtype)!),
        }, context));
        return command;
    }
}
