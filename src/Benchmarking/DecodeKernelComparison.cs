using System.Diagnostics;
using PdServe.Engine.Cache;
using PdServe.Engine.FastPath;
using PdServe.Engine.Model;
using static TorchSharp.torch;

namespace PdServe.Benchmarking;

/// <summary>One kernel's decode speed at one batch size, and the weight bytes it streams per step.</summary>
public sealed record KernelDecodeThroughput(string Kernel, int BatchSize, int ContextTokens, double TokensPerSecond, double MillisecondsPerStep,
    long WeightBytesPerStep)
{
    public double WeightGBps => WeightBytesPerStep / (MillisecondsPerStep / 1000) / 1e9;
}

/// <summary>The decode kernels compared at one batch size, and the one that was fastest there.</summary>
public sealed record DecodeKernelChoice(int BatchSize, string Fastest, IReadOnlyList<KernelDecodeThroughput> Kernels);

/// <summary>
/// Torch's decode step against the fused kernel (the model's dtype, and int8) on the same model, batch by batch. The
/// kernels take turns within each repetition — torch, fused, fused int8, then again — so a noisy machine slows
/// them alike and the ratios hold; each figure is the median of its repetitions.
/// </summary>
public static class DecodeKernelComparison
{
    public static IReadOnlyList<DecodeKernelChoice> Run(CausalLm model, int workers, int[]? batchSizes = null, int decodeContext = 128,
        int decodeSteps = 16, int repetitions = 5, int seed = 1)
    {
        batchSizes ??= [1, 4, 16];
        int maxBatch = batchSizes.Max();
        var random = new Random(seed);
        int[] context = Enumerable.Range(0, decodeContext).Select(_ => random.Next(model.Config.VocabSize)).ToArray();
        int tokensPerSlot = decodeContext + decodeSteps * (repetitions + 1) + 1;
        using var fast = new FastDecoder(model, maxBatch, workers);
        using var int8 = new FastDecoder(model, maxBatch, workers, WeightFormat.Int8);
        var kernels = new (string Name, Func<int[], int[], KvCache, Tensor> Step, long Bytes)[]
        {
            ("torch " + model.DecodeDtype, (t, p, c) => model.DecodeStep(t, p, c), EngineThroughputBenchmark.DecodeWeightBytes(model)),
            ($"fused {fast.Format} ({fast.Isa})", fast.Step, fast.WeightBytes),
            ($"fused {int8.Format} ({int8.Isa})", int8.Step, int8.WeightBytes),
        };
        var choices = new List<DecodeKernelChoice>();
        foreach (int batch in batchSizes)
        {
            var caches = kernels.Select(_ => model.CreateCache(maxBatch, tokensPerSlot)).ToArray();
            try
            {
                var positions = new int[kernels.Length];
                foreach (KvCache cache in caches)
                {
                    model.Prefill(context, cache, 0).Dispose();
                    for (int slot = 1; slot < batch; slot++) cache.CopySlot(0, slot);
                }
                int[] tokens = Enumerable.Repeat(context[0], batch).ToArray();
                void Steps(int k, int count)
                {
                    for (int i = 0; i < count; i++)
                    {
                        kernels[k].Step(tokens, Enumerable.Repeat(decodeContext + positions[k], batch).ToArray(), caches[k]).Dispose();
                        positions[k]++;
                    }
                }
                for (int k = 0; k < kernels.Length; k++) Steps(k, decodeSteps); // warm-up: first touch, JIT
                var seconds = kernels.Select(_ => new List<double>()).ToArray();
                for (int r = 0; r < repetitions; r++)
                {
                    for (int k = 0; k < kernels.Length; k++)
                    {
                        var clock = Stopwatch.StartNew();
                        Steps(k, decodeSteps);
                        seconds[k].Add(clock.Elapsed.TotalSeconds / decodeSteps);
                    }
                }
                var measured = kernels.Select((kernel, k) =>
                {
                    double step = EngineThroughputBenchmark.Median(seconds[k]);
                    return new KernelDecodeThroughput(kernel.Name, batch, decodeContext, batch / step, step * 1000, kernel.Bytes);
                }).ToList();
                choices.Add(new DecodeKernelChoice(batch, measured.MaxBy(m => m.TokensPerSecond)!.Kernel, measured));
            }
            finally
            {
                foreach (KvCache cache in caches) cache.Dispose();
            }
        }
        return choices;
    }
}
