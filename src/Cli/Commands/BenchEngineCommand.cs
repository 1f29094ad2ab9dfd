using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using PdServe.Benchmarking;
using Spectre.Console;

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
        command.SetAction(parseResult => Run(new BenchEngineOptions
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

    public static int Run(BenchEngineOptions options, CliContext context)
    {
        if (options.JsonPath is { } jsonPath)
            CheckWritable(jsonPath);
        TorchThreads.Apply(options.Threads);

        var ceilingsOptions = options.Smoke ? MachineCeilingsOptions.Tiny : MachineCeilingsOptions.Default;
        var ceilings = LoadingProgress.Run(context, "measuring machine ceilings",
            progress => MachineCeilings.Measure(ceilingsOptions, progress));
        PrintCeilings(ceilings, context);

        EngineThroughputReport? throughput = null;
        if (options.HasModel)
            throughput = EngineThroughputBench.Run(options, ceilings, context);

        if (options.JsonPath is { } path)
            WriteJson(path, new BenchEngineReport(
                Version: Program.Version,
                TimestampUtc: DateTime.UtcNow,
                Model: options.ModelDir,
                Shape: options.ShapeName,
                Smoke: options.Smoke,
                Ceilings: ceilings,
                Throughput: throughput));
        return ExitCodes.Ok;
    }

    public static void PrintCeilings(MachineCeilingsResult ceilings, CliContext context)
    {
        var table = new Table()
            .Title($"Machine ceilings ({ceilings.Threads} torch thread{(ceilings.Threads == 1 ? "" : "s")}, best of {ceilings.Repetitions})")
            .AddColumn("metric")
            .AddColumn(new TableColumn("value").RightAligned())
            .AddColumn("unit")
            .AddColumn("measured as");
        foreach (var metric in ceilings.Metrics)
            table.AddRow(
                Markup.Escape(metric.Name),
                metric.Value.ToString(metric.Value >= 100 ? "F0" : "F1", CultureInfo.InvariantCulture),
                Markup.Escape(metric.Unit),
                Markup.Escape(metric.Detail));
        context.Out.Write(table);
        context.Out.WriteLine("GB = 1e9 bytes; GFLOP = 1e9 flops (multiply-add = 2).");
    }

    /// <summary>The JSON report of <c>--json</c>.</summary>
    public sealed record BenchEngineReport(
        string Version,
        DateTime TimestampUtc,
        string? Model,
        string? Shape,
        bool Smoke,
        MachineCeilingsResult Ceilings,
        EngineThroughputReport? Throughput);

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private static void CheckWritable(string path)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null && !Directory.Exists(directory))
            throw new CliError($"--json: directory '{directory}' does not exist");
        if (Directory.Exists(path))
            throw new CliError($"--json: '{path}' is a directory");
    }

    private static void WriteJson(string path, BenchEngineReport report)
    {
        try
        {
            File.WriteAllText(path, JsonSerializer.Serialize(report, JsonOptions) + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliError($"--json: cannot write '{path}': {e.Message}", e);
        }
    }
}
