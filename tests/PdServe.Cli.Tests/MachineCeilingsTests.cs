using PdServe.Benchmarking;

namespace PdServe.Cli.Tests;

public class MachineCeilingsTests
{
    [Fact]
    public void Tiny_configuration_gives_positive_finite_numbers()
    {
        var reported = new List<double>();
        var result = MachineCeilings.Measure(MachineCeilingsOptions.Tiny, new SyncProgress(reported.Add));

        Assert.True(result.Threads >= 1);
        Assert.Equal(MachineCeilingsOptions.Tiny.Repetitions, result.Repetitions);
        Assert.Equal(MachineCeilingsOptions.Tiny.CopyBytes, result.MemoryCopyBufferBytes);
        foreach (double value in new[]
                 {
                     result.MemoryCopyGBps, result.MemoryReadGBps, result.Fp32GemmGflops, result.Bf16GemmGflops,
                     result.Fp32GemvGBps, result.Fp32GemvLinearLayoutGBps, result.Fp32GemvTransposedLayoutGBps,
                 })
        {
            Assert.True(double.IsFinite(value) && value > 0, $"got {value}");
        }
        Assert.All(result.Metrics, m => Assert.True(double.IsFinite(m.Value) && m.Value > 0, m.Name));
        Assert.Equal(Math.Max(result.Fp32GemvLinearLayoutGBps, result.Fp32GemvTransposedLayoutGBps), result.Fp32GemvGBps);
        Assert.Equal(1.0, reported[^1]);
        Assert.Equal(reported.Order(), reported);
    }

    [Fact]
    public void Invalid_options_are_rejected()
    {
        Assert.ThrowsAny<ArgumentException>(() => MachineCeilings.Measure(MachineCeilingsOptions.Tiny with { Repetitions = 0 }));
        Assert.ThrowsAny<ArgumentException>(() => MachineCeilings.Measure(MachineCeilingsOptions.Tiny with { GemvN = 0 }));
    }

    private sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
