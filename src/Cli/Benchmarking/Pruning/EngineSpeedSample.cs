using System.Text.Json;
using PdServe.Benchmarking;

namespace PdServe.Cli.Benchmarking.Pruning;

/// <summary>
/// What one <c>bench engine --json</c> run says about a configuration's stages: prompt tokens per second (the prefill
/// stage) and decode tokens per second at batch 1 and 16 (<paramref name="largeBatch"/>) with the fused bf16/fp32 kernel
/// the decode nodes run by default.
/// </summary>
public sealed record EngineSpeedSample(double PrefillTokensPerSecond, double DecodeBatch1, double DecodeBatch16)
{
    public static EngineSpeedSample Read(string jsonPath, int largeBatch = 16)
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(jsonPath));
        JsonElement throughput = json.RootElement.GetProperty("throughput");
        double prefill = throughput.GetProperty("measured").GetProperty("prefillTokensPerSecond").GetDouble();
        return new EngineSpeedSample(prefill, Decode(throughput, 1), Decode(throughput, largeBatch));
    }

    public static EngineSpeedSample Median(IReadOnlyList<EngineSpeedSample> samples) => new(
        EngineThroughputBenchmark.Median(samples.Select(s => s.PrefillTokensPerSecond)),
        EngineThroughputBenchmark.Median(samples.Select(s => s.DecodeBatch1)),
        EngineThroughputBenchmark.Median(samples.Select(s => s.DecodeBatch16)));

    private static double Decode(JsonElement throughput, int batch)
    {
        foreach (JsonElement choice in throughput.GetProperty("decodeKernels").EnumerateArray())
        {
            if (choice.GetProperty("batchSize").GetInt32() != batch) continue;
            foreach (JsonElement kernel in choice.GetProperty("kernels").EnumerateArray())
            {
                string name = kernel.GetProperty("kernel").GetString()!;
                if (name.StartsWith("fused", StringComparison.Ordinal) && !name.Contains("Int8", StringComparison.Ordinal))
                    return kernel.GetProperty("tokensPerSecond").GetDouble();
            }
        }
        throw new InvalidDataException($"bench engine's JSON has no fused decode kernel at batch {batch}");
    }
}
