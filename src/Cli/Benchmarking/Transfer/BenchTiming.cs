namespace PdServe.Cli.Benchmarking.Transfer;

/// <summary>How the transfer benchmarks time things: one warm-up run, then the median of the repetitions.</summary>
public static class BenchTiming
{
    public static double Median(int repetitions, Func<double> measure)
    {
        measure();
        double[] times = Enumerable.Range(0, repetitions).Select(_ => measure()).Order().ToArray();
        return times[times.Length / 2];
    }
}
