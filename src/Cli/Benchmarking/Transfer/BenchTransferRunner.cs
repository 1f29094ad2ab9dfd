using PdServe.Cli.Cluster;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;
using PdServe.Benchmarking;
using PdServe.Engine.Loading;
using PdServe.Engine.Planning;
using Spectre.Console;

namespace PdServe.Cli.Benchmarking.Transfer;

/// <summary>
/// Runs <c>pdserve bench transfer</c>: KV bytes per request of each transfer variant, loopback transfer throughput
/// against a raw gRPC stream, and TTFT of PD against unified generation; or, with a link rate, only TTFT of full
/// against pruned transfer over the shaped link (<see cref="LinkTtftBench"/>).
/// </summary>
public static class BenchTransferRunner
{
    private const string DefaultKvPlan = "configs/kv-plan.json";

    public static int Run(BenchTransferOptions options, CliContext context)
    {
        if (options.LinkMbit is { } megabits)
            return RunShapedLink(context, options.ModelDir ?? DefaultModel.Resolve(), options.PlanFile, options.PromptLengths, options.Repetitions, megabits);
        ModelConfig config = ModelShapes.Get(options.ShapeName);
        IReadOnlyList<int> promptLengths = options.PromptLengths;
        KvPolicy policy = options.PlanFile is { } planPath
            ? PrunePlan.Load(planPath).KvPolicy
            : new KvPolicy(Enumerable.Range(0, config.NumLayers).Skip(options.FullLayers).ToArray(), options.First, options.Last, KvWireDtype.Float32);
        int repetitions = options.Repetitions;
        context.Out.MarkupLine($"[bold]KV bytes per request[/], shape {Markup.Escape(options.ShapeName)} " +
                               $"({config.NumLayers} layers × {config.NumKvHeads} KV heads × {config.HeadDim}); policy: first {policy.First}, last {policy.Last}, " +
                               $"{policy.SelectedLayers.Count} of {config.NumLayers} layers selected");
        context.Out.Write(TransferBytesTable.Build(config, policy, promptLengths));

        context.Out.MarkupLine($"[bold]Loopback transfer[/] of full float32 KV ({repetitions} runs, median): the decode node's receive path vs a raw gRPC stream of the same messages");
        context.Out.Write(LoopbackTransferBench.Run(config, promptLengths, repetitions));

        string? ttftModel = options.ModelDir ?? DefaultTtftModel();
        if (ttftModel is null)
        {
            context.Out.MarkupLine("TTFT: skipped (no --model and ../shared/models/stories260k is absent)");
            return ExitCodes.Ok;
        }
        context.Out.MarkupLine($"[bold]TTFT[/], greedy, {Markup.Escape(Path.GetFileName(ttftModel.TrimEnd('/')))} on in-process nodes over loopback ({repetitions} runs, median)");
        context.Out.Write(TtftBench.Run(ttftModel, promptLengths, repetitions));
        return ExitCodes.Ok;
    }

    private static int RunShapedLink(CliContext context, string modelDirectory, string? planFile, IReadOnlyList<int> promptLengths, int repetitions, int megabits)
    {
        // Before anything is printed, so a machine that cannot run it gets the one error line alone.
        ShapedLink.RequireRootAndTools(LinkTtftBench.Command);
        string plan = planFile ?? CheckoutFile.Find(DefaultKvPlan)
            ?? throw new CliError($"{LinkTtftBench.Command}: no --plan given and {DefaultKvPlan} is not in this checkout");
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
