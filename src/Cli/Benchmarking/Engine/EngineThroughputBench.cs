using System.Globalization;
using PdServe.Benchmarking;
using PdServe.Cli.Terminal;
using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using Spectre.Console;
using static TorchSharp.torch;

namespace PdServe.Cli.Benchmarking.Engine;

/// <summary>The model half of <c>pdserve bench engine</c>: prefill / decode throughput of a model or a named shape.</summary>
public static class EngineThroughputBench
{
    public static EngineThroughputReport Run(BenchEngineOptions options, MachineCeilingsResult ceilings, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(ceilings);
        ArgumentNullException.ThrowIfNull(context);

        // With a plan, each stage is measured on its own blocks: prefill on the prefill stage's, decode on the decode stage's.
        IReadOnlySet<int> decodeSkip = options.Plan?.DecodeSkipSet ?? new HashSet<int>();
        using CausalLm model = LoadingProgress.Run(context, "loading model", progress => Load(options, decodeSkip, progress));
        EngineThroughputResult measured = LoadingProgress.Run(context, "measuring prefill and decode", _ => Measure(model, options.Smoke));
        if (options.Plan is { } plan)
        {
            using CausalLm prefillStage = LoadingProgress.Run(context, "loading the prefill stage", progress => Load(options, plan.PrefillSkipSet, progress));
            EngineThroughputResult prefill = LoadingProgress.Run(context, "measuring prefill", _ => Measure(prefillStage, options.Smoke));
            measured = measured with
            {
                PrefillTokensPerSecond = prefill.PrefillTokensPerSecond,
                PrefillGflopPerSecond = prefill.PrefillGflopPerSecond,
                PrefillDtypeCheck = prefill.PrefillDtypeCheck,
            };
            context.Out.WriteLine($"Plan {plan.Fingerprint()}: prefill skips [{string.Join(',', plan.PrefillSkip.Order())}], decode skips [{string.Join(',', plan.DecodeSkip.Order())}].");
        }

        long fp32Bytes = model.parameters().Sum(p => p.numel()) * 4;
        double copyRoofline = ceilings.MemoryCopyGBps * 1e9 / fp32Bytes;
        double gemvRoofline = ceilings.Fp32GemvGBps * 1e9 / fp32Bytes;
        double batch1 = measured.Decode.First(d => d.BatchSize == 1).TokensPerSecond;
        double? batch16 = measured.Decode.FirstOrDefault(d => d.BatchSize == 16)?.TokensPerSecond;
        double gemmCeiling = model.PrefillDtype == ScalarType.BFloat16 ? ceilings.Bf16GemmGflops : ceilings.Fp32GemmGflops;
        IReadOnlyList<DecodeKernelChoice> kernels = LoadingProgress.Run(context, "comparing decode kernels", _ => options.Smoke
            ? DecodeKernelComparison.Run(model, ceilings.Threads, batchSizes: [1, 2], decodeContext: 8, decodeSteps: 2, repetitions: 1)
            : DecodeKernelComparison.Run(model, ceilings.Threads));
        var report = new EngineThroughputReport(measured, fp32Bytes, copyRoofline, gemvRoofline,
            batch1 / copyRoofline, batch1 / gemvRoofline, batch16 / batch1, measured.PrefillGflopPerSecond / gemmCeiling)
        {
            DecodeKernels = kernels,
            KernelIsa = PdServe.Engine.FastPath.KernelCapabilities.Best.ToString(),
        };
        Print(report, ceilings, context);
        PrintKernels(report, ceilings, context);
        return report;
    }

    private static EngineThroughputResult Measure(CausalLm model, bool smoke) => smoke
        ? EngineThroughputBenchmark.Run(model, prefillTokens: 16, batchSizes: [1, 2], decodeContext: 8, decodeSteps: 2, repetitions: 1)
        : EngineThroughputBenchmark.Run(model);

    private static CausalLm Load(BenchEngineOptions options, IReadOnlySet<int> skippedBlocks, IProgress<double> progress)
    {
        var loadOptions = new ModelLoadOptions
        {
            SkippedBlocks = skippedBlocks,
            Progress = progress,
            PrefillDtype = options.PrefillDtype,
            DecodeDtype = options.DecodeDtype,
        };
        if (options.ShapeName is { } shape)
        {
            ModelConfig config = ModelShapes.Get(shape);
            return CausalLm.Load(config, new RandomWeightSource(config, seed: 1), loadOptions);
        }
        ModelDirectory directory = ModelDirectory.Open(options.ModelDir!);
        using SafeTensorsCheckpoint weights = directory.OpenWeights();
        return CausalLm.Load(directory.Config, weights, loadOptions);
    }

    private static void PrintKernels(EngineThroughputReport report, MachineCeilingsResult ceilings, CliContext context)
    {
        string F(double value, string format = "F1") => value.ToString(format, CultureInfo.InvariantCulture);
        var table = new Table()
            .Title($"Decode kernels, interleaved (fused kernels on {report.KernelIsa}, {ceilings.Threads} threads; read bandwidth {F(ceilings.MemoryReadGBps)} GB/s, the batch-1 roofline's ceiling)")
            .AddColumn("batch")
            .AddColumn("kernel")
            .AddColumn(new TableColumn("tok/s").RightAligned())
            .AddColumn(new TableColumn("ms/step").RightAligned())
            .AddColumn(new TableColumn("weights GB/s").RightAligned())
            .AddColumn(new TableColumn("vs torch").RightAligned())
            .AddColumn("chosen");
        foreach (DecodeKernelChoice choice in report.DecodeKernels)
        {
            double torch = choice.Kernels[0].TokensPerSecond;
            foreach (KernelDecodeThroughput k in choice.Kernels)
                table.AddRow(choice.BatchSize.ToString(CultureInfo.InvariantCulture), Markup.Escape(k.Kernel), F(k.TokensPerSecond), F(k.MillisecondsPerStep, "F2"),
                    $"{F(k.WeightGBps)} ({F(k.WeightGBps / ceilings.MemoryReadGBps * 100, "F0")}% of read)", F(k.TokensPerSecond / torch, "F2") + "x",
                    k.Kernel == choice.Fastest ? "fastest" : "");
        }
        context.Out.Write(table);
    }

    private static void Print(EngineThroughputReport report, MachineCeilingsResult ceilings, CliContext context)
    {
        EngineThroughputResult m = report.Measured;
        string F(double value, string format = "F1") => value.ToString(format, CultureInfo.InvariantCulture);
        string Percent(double ratio) => (ratio * 100).ToString("F0", CultureInfo.InvariantCulture) + "%";
        var table = new Table()
            .Title($"Engine throughput (prefill {m.PrefillDtype}, decode {m.DecodeDtype}, {ceilings.Threads} torch threads, median of repetitions)")
            .AddColumn("measurement")
            .AddColumn(new TableColumn("value").RightAligned())
            .AddColumn("against the ceilings");
        table.AddRow($"prefill, {m.PrefillTokens}-token prompt", $"{F(m.PrefillTokensPerSecond, "F0")} tok/s",
            $"{F(m.PrefillGflopPerSecond, "F0")} GFLOP/s = {Percent(report.PrefillOfGemmCeiling)} of the {m.PrefillDtype} GEMM ceiling");
        foreach (DecodeThroughput d in m.Decode)
        {
            string against = d.BatchSize == 1
                ? $"{F(m.DecodeBytesPerStep / (d.MillisecondsPerStep / 1000) / 1e9)} GB/s of weights; "
                  + $"{Percent(report.DecodeBatch1OfCopyRoofline)} of the fp32 copy-bandwidth roofline ({F(report.Fp32CopyRooflineTokensPerSecond)} tok/s), "
                  + $"{Percent(report.DecodeBatch1OfGemvRoofline)} of the fp32 GEMV roofline ({F(report.Fp32GemvRooflineTokensPerSecond)} tok/s)"
                : $"{F(d.TokensPerSecond / m.Decode[0].TokensPerSecond, "F2")}x batch 1";
            table.AddRow($"decode, batch {d.BatchSize}, {d.ContextTokens}-token context",
                $"{F(d.TokensPerSecond)} tok/s ({F(d.MillisecondsPerStep)} ms/step)", Markup.Escape(against));
        }
        if (m.PrefillDtypeCheck is { } check)
            table.AddRow($"{m.PrefillDtype} prefill vs {m.DecodeDtype}", $"max |Δlogit| {F(check.MaxLogitDifference, "F3")}",
                $"max |logit| {F(check.MaxAbsLogit, "F2")}; same top token: {(check.SameTopToken ? "yes" : "no")}");
        context.Out.Write(table);
        context.Out.WriteLine($"Decode streams {F(m.DecodeBytesPerStep / 1e6, "F0")} MB of {m.DecodeDtype} weights per step "
                              + $"({F(report.Fp32WeightBytes / 1e6, "F0")} MB in fp32).");
    }
}
