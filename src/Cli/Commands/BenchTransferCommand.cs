using System.CommandLine;
using PdServe.Benchmarking;
using PdServe.Cli.Benchmarking;
using PdServe.Engine.Planning;
using Spectre.Console;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve bench transfer</c>: KV bytes per request for full, token-aware and low-precision transfers of a model
/// shape; loopback transfer throughput of the KV wire path against a raw gRPC stream of the same messages; TTFT of
/// PD against unified generation on a real model; or, with <c>--link-mbit</c>, TTFT of full against pruned transfer between
/// node processes over a rate-limited link.
/// </summary>
public static class BenchTransferCommand
{
    private const string DefaultKvPlan = "configs/kv-plan.json";

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
        var linkMbit = OptionChecks.Int("--link-mbit", 0,
                "Instead of the tables above: TTFT of full against pruned (--plan, default configs/kv-plan.json) transfer between prefill and decode node processes over a veth shaped to R Mbit/s (root, ip, tc; default model models/kjv-llama)", "R")
            .Require(n => n >= 0, ">= 0");
        var command = new Command("transfer", "Measure KV bytes per request, loopback transfer throughput against a raw gRPC ceiling, and TTFT PD vs unified")
        {
            shape, lengths, plan, first, last, fullLayers, model, repeat, linkMbit,
        };
        command.SetAction(parseResult =>
        {
            if (parseResult.GetValue(linkMbit) is > 0 and int megabits)
                return RunShapedLink(context, parseResult.GetValue(model) ?? DefaultModel.Resolve(), parseResult.GetValue(plan), parseResult.GetValue(lengths)!,
                    parseResult.GetValue(repeat), megabits);
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

    private static int RunShapedLink(CliContext context, string modelDirectory, string? planFile, string lengthList, int repetitions, int megabits)
    {
        // Before anything is printed, so a machine that cannot run it gets the one error line alone.
        ShapedLink.RequireRootAndTools(LinkTtftBench.Command);
        string plan = planFile ?? CheckoutFile.Find(DefaultKvPlan)
            ?? throw new CliError($"{LinkTtftBench.Command}: no --plan given and {DefaultKvPlan} is not in this checkout");
        GenerateCommand.TryParseBlockList(lengthList, out int[] promptLengths);
        context.Out.MarkupLine($"[bold]TTFT over a {megabits} Mbit/s link[/], greedy, {Markup.Escape(Path.GetFileName(modelDirectory.TrimEnd('/')))}: " +
                               $"prefill node process in its own network namespace, decode node process in the root namespace, veth between them " +
                               $"shaped with tbf both ways; full transfer vs {Markup.Escape(Path.GetFileName(plan))} ({repetitions} runs, median)");
        using var interrupt = new InterruptSignal();
        context.Out.Write(LinkTtftBench.RunAsync(modelDirectory, plan, promptLengths, repetitions, megabits, context.Stderr, interrupt.Token).GetAwaiter().GetResult());
        return ExitCodes.Ok;
    }

    private static string? DefaultTtftModel()
    {
        string candidate = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "..", "shared", "models", "stories260k"));
        return Directory.Exists(candidate) ? candidate : null;
    }
}
