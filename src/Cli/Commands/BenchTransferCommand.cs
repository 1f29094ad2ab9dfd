using System.CommandLine;
using PdServe.Benchmarking;
using PdServe.Cli.Benchmarking.Transfer;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve bench transfer</c>: KV bytes per request for full, token-aware and low-precision transfers of a model
/// shape; loopback transfer throughput of the KV wire path against a raw gRPC stream of the same messages; TTFT of
/// PD against unified generation on a real model; or, with <c>--link-mbit</c>, TTFT of full against pruned transfer between
/// node processes over a rate-limited link.
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
        }.Require(text => IntegerList.TryParse(text, out int[] parsed) && parsed.All(n => n >= 1), "a comma-separated list of positive integers");
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
            IntegerList.TryParse(parseResult.GetValue(lengths)!, out int[] promptLengths);
            return BenchTransferRunner.Run(new BenchTransferOptions
            {
                ShapeName = parseResult.GetValue(shape)!,
                PromptLengths = promptLengths,
                PlanFile = parseResult.GetValue(plan),
                First = parseResult.GetValue(first),
                Last = parseResult.GetValue(last),
                FullLayers = parseResult.GetValue(fullLayers),
                ModelDir = parseResult.GetValue(model),
                Repetitions = parseResult.GetValue(repeat),
                LinkMbit = parseResult.GetValue(linkMbit) is > 0 and int megabits ? megabits : null,
            }, context);
        });
        return command;
    }
}
