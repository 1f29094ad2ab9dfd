using System.CommandLine;
using PdServe.Engine.Benchmarking;
using PdServe.Engine.Planning;
using Spectre.Console;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve bench transfer</c>: KV bytes per request for full, token-aware and low-precision transfers of a model
/// shape; loopback transfer throughput of the KV wire path against a raw gRPC stream of the same messages; TTFT of
/// PD against unified generation on a real model.
/// </summary>
public static class BenchTransferCommand
{
    public static Command Create(CliContext context)
    {
        var shape = new Option<string>("--shape")
        {
            Description = $"Model shape whose KV sizes are measured ({string.Join(", ", ModelShapes.Names)})",
            HelpName = "NAME",
            DefaultValueFactory = _ => "smollm2-135m",
        }.Require(name => ModelShapes.TryGet(name, out _), $"one of: {string.Join(", ", ModelShapes.Names)}");
        var lengths = new Option<string>("--lengths")
        {
            Description = "Comma-separated prompt lengths",
            HelpName = "LIST",
            DefaultValueFactory = _ => "128,512,1024,2048,4096",
        }.Require(text => GenerateCommand.TryParseBlockList(text, out int[] parsed) && parsed.All(n => n >= 1), "a comma-separated list of positive integers");
        var plan = new Option<string>("--plan")
        {
            Description = "Take the token-aware policy from this prune plan (its kv section) instead of --first/--last/--full-layers",
            HelpName = "FILE",
        }.Require(File.Exists, "an existing plan file");
        var first = OptionChecks.Int("--first", 4, "Policy: prompt positions kept at the start of each selected layer", "F").Require(n => n >= 0, ">= 0");
        var last = OptionChecks.Int("--last", 60, "Policy: prompt positions kept at the end of each selected layer", "L").Require(n => n >= 0, ">= 0");
        var fullLayers = OptionChecks.Int("--full-layers", 2, "Policy: the first N layers keep every position; all others are selected", "N")
            .Require(n => n >= 0, ">= 0");
        var model = new Option<string>("--model")
        {
            Description = "Model directory for the TTFT comparison (default: ../shared/models/stories260k when present)",
            HelpName = "DIR",
        }.ExistingDirectory();
        var repeat = OptionChecks.Int("--repeat", 5, "Repetitions per measurement (the median is reported)", "R").Require(n => n >= 1, ">= 1");
        var command = new Command("transfer", "Measure KV bytes per request, loopback transfer throughput against a raw gRPC ceiling, and TTFT PD vs unified")
        {
            shape, lengths, plan, first, last, fullLayers, model, repeat,
        };
        command.SetAction(parseResult =>
        {
            Engine.Loading.ModelConfig config = ModelShapes.Get(parseResult.GetValue(shape)!);
            GenerateCommand.TryParseBlockList(parseResult.GetValue(lengths)!, out int[] promptLengths);
            KvPolicy policy = parseResult.GetValue(plan) is { } planPath
                ? PrunePlan.Load(planPath).KvPolicy
                : new KvPolicy(Enumerable.Range(0, config.NumLayers).Skip(parseResult.GetValue(fullLayers)).ToArray(),
                    parseResult.GetValue(first), parseResult.GetValue(last), KvWireDtype.Float32);
            int repetitions = parseResult.GetValue(repeat);
            context.Out.MarkupLine($"[bold]KV bytes per request[/], shape {Markup.Escape(parseResult.GetValue(shape)!)} " +
                                   $"({config.NumLayers} layers × {config.NumKvHeads} KV heads × {config.HeadDim}); policy: first {policy.First}, last {policy.Last}, " +
                                   $"{policy.SelectedLayers.Count} of {config.NumLayers} layers selected");
            context.Out.Write(TransferBytesTable.Build(config, policy, promptLengths));

            context.Out.MarkupLine($"[bold]Loopback transfer[/] of full float32 KV ({repetitions} runs, median): the decode node's receive path vs a raw gRPC stream of the same messages");
            context.Out.Write(LoopbackTransferBench.Run(config, promptLengths, repetitions));

            string? ttftModel = parseResult.GetValue(model) ?? DefaultTtftModel();
            if (ttftModel is null)
            {
                context.Out.MarkupLine("TTFT: skipped (no --model and ../shared/models/stories260k is absent)");
                return ExitCodes.Ok;
            }
            context.Out.MarkupLine($"[bold]TTFT[/], greedy, {Markup.Escape(Path.GetFileName(ttftModel.TrimEnd('/')))} on in-process nodes over loopback ({repetitions} runs, median)");
            context.Out.Write(TtftBench.Run(ttftModel, promptLengths, repetitions));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string? DefaultTtftModel()
    {
        string candidate = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "..", "shared", "models", "stories260k"));
        return Directory.Exists(candidate) ? candidate : null;
    }
}
