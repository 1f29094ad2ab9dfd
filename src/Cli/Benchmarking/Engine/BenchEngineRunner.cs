using System.Text.Json;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;
using PdServe.Benchmarking;

namespace PdServe.Cli.Benchmarking.Engine;

/// <summary>
/// Runs <c>pdserve bench engine</c>: this machine's ceilings (memory bandwidth, GEMM, GEMV), then, with a model or shape,
/// the engine's throughput against them (<see cref="EngineThroughputBench"/>), and the JSON report if asked for.
/// </summary>
public static class BenchEngineRunner
{
    public static int Run(BenchEngineOptions options, CliContext context)
    {
        if (options.JsonPath is { } jsonPath)
            CheckWritable(jsonPath);
        TorchThreads.Apply(options.Threads);

        var ceilingsOptions = options.Smoke ? MachineCeilingsOptions.Tiny : MachineCeilingsOptions.Default;
        var ceilings = LoadingProgress.Run(context, "measuring machine ceilings",
            progress => MachineCeilings.Measure(ceilingsOptions, progress));
        MachineCeilingsTable.Write(ceilings, context);

        EngineThroughputReport? throughput = null;
        if (options.HasModel)
            throughput = EngineThroughputBench.Run(options, ceilings, context);

        if (options.JsonPath is { } path)
            WriteJson(path, new BenchEngineReport(
                Version: CliIdentity.Version,
                TimestampUtc: DateTime.UtcNow,
                Model: options.ModelDir,
                Shape: options.ShapeName,
                Smoke: options.Smoke,
                Ceilings: ceilings,
                Throughput: throughput));
        return ExitCodes.Ok;
    }

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
            File.WriteAllText(path, JsonSerializer.Serialize(report, BenchmarkJson.Options) + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliError($"--json: cannot write '{path}': {e.Message}", e);
        }
    }
}
