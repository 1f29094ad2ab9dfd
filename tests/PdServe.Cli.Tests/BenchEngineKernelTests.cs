using System.Text.Json;
using PdServe.TestSupport;

namespace PdServe.Cli.Tests;

/// <summary><c>bench engine</c> compares torch's decode step with the fused kernel, batch by batch, and records the choice.</summary>
public sealed class BenchEngineKernelTests
{
    [Fact]
    public void The_report_holds_every_kernel_at_every_batch_size_and_names_the_fastest()
    {
        using var directory = new TempDirectory();
        TinyTokenizer.WriteModel(directory.Combine("model"), TinyCheckpoint.LlamaGqa(), seed: 3);
        string json = directory.Combine("engine.json");

        CliRun run = CliRun.Of("bench", "engine", "--model", directory.Combine("model"), "--smoke", "--threads", "1", "--json", json);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("Decode kernels, interleaved", run.Stdout);
        using JsonDocument report = JsonDocument.Parse(File.ReadAllText(json));
        JsonElement throughput = report.RootElement.GetProperty("throughput");
        Assert.False(string.IsNullOrEmpty(throughput.GetProperty("kernelIsa").GetString()));
        JsonElement[] choices = throughput.GetProperty("decodeKernels").EnumerateArray().ToArray();
        Assert.Equal([1, 2], choices.Select(c => c.GetProperty("batchSize").GetInt32()));
        foreach (JsonElement choice in choices)
        {
            JsonElement[] kernels = choice.GetProperty("kernels").EnumerateArray().ToArray();
            Assert.Equal(3, kernels.Length);
            Assert.StartsWith("torch", kernels[0].GetProperty("kernel").GetString());
            Assert.Contains("Int8", kernels[2].GetProperty("kernel").GetString());
            Assert.All(kernels, k => Assert.True(k.GetProperty("tokensPerSecond").GetDouble() > 0));
            string fastest = kernels.MaxBy(k => k.GetProperty("tokensPerSecond").GetDouble()).GetProperty("kernel").GetString()!;
            Assert.Equal(fastest, choice.GetProperty("fastest").GetString());
        }
    }
}
