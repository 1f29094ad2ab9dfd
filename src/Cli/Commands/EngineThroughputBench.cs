using PdServe.Engine.Benchmarking;

namespace PdServe.Cli.Commands;

/// <summary>Model throughput results of <c>pdserve bench engine</c>; written under "throughput" in the JSON report.</summary>
public sealed record EngineThroughputResult;

/// <summary>The model half of <c>pdserve bench engine</c>: prefill / decode throughput of a model or a named shape.</summary>
public static class EngineThroughputBench
{
    /// <summary>
    /// Runs after the machine ceilings were measured and printed, when <c>--model</c> or <c>--shape</c> is given.
    /// For <see cref="BenchEngineOptions.ShapeName"/> use <see cref="ModelShapes.Get"/> and
    /// <see cref="RandomWeightSource"/>. Print to <c>context.Out</c>; compare against <paramref name="ceilings"/>.
    /// Torch threads are already set. Throw <see cref="CliError"/> for user errors.
    /// </summary>
    public static EngineThroughputResult Run(BenchEngineOptions options, MachineCeilingsResult ceilings, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(ceilings);
        ArgumentNullException.ThrowIfNull(context);
        throw new CliError("bench engine: model throughput not wired yet");
    }
}
