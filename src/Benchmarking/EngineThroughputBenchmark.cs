using System.Diagnostics;
using PdServe.Engine.Cache;
using PdServe.Engine.Model;
using static TorchSharp.torch;

namespace PdServe.Benchmarking;

/// <summary>Decode speed at one batch size: aggregate tokens per second over all sequences of the batch.</summary>
public sealed record DecodeThroughput(int BatchSize, int ContextTokens, double TokensPerSecond, double MillisecondsPerStep);

/// <summary>What <see cref="EngineThroughputBenchmark"/> measured, with the work each figure implies.</summary>
public sealed record EngineThroughputResult(
    int PrefillTokens,
    double PrefillTokensPerSecond,
    double PrefillGflopPerSecond,
    string PrefillDtype,
    IReadOnlyList<DecodeThroughput> Decode,
    string DecodeDtype,
    long DecodeBytesPerStep,
    PrefillDtypeCheck? PrefillDtypeCheck);

/// <summary>
/// How far prefill logits in the prefill dtype are from the same prefill in the decode dtype (only measured when
/// the two differ, e.g. bf16 prefill of an fp32 checkpoint).
/// </summary>
public sealed record PrefillDtypeCheck(float MaxLogitDifference, float MaxAbsLogit, bool SameTopToken);

/// <summary>
/// Measures prefill and decode throughput of a loaded model the way the engine runs them: one prompt prefilled
/// in the prefill dtype, then decode steps over batches of slots that each hold a prompt's KV.
/// </summary>
public static class EngineThroughputBenchmark
{
    public static EngineThroughputResult Run(CausalLm model, int prefillTokens = 512, int[]? batchSizes = null,
        int decodeContext = 128, int decodeSteps = 16, int repetitions = 5, int seed = 1)
    {
        batchSizes ??= [1, 4, 16];
        var random = new Random(seed);
        int[] prompt = Enumerable.Range(0, prefillTokens).Select(_ => random.Next(model.Config.VocabSize)).ToArray();
        int maxBatch = batchSizes.Max();
        using KvCache cache = model.CreateCache(maxBatch, Math.Max(prefillTokens, decodeContext + decodeSteps * (repetitions + 1) + 1));

        // Prefill: warm up once (first touch of fresh buffers is slow), then take the median of the repetitions.
        model.Prefill(prompt, cache, 0).Dispose();
        double prefillSeconds = Median(Enumerable.Range(0, repetitions).Select(_ => Seconds(() => model.Prefill(prompt, cache, 0).Dispose())));

        PrefillDtypeCheck? dtypeCheck = null;
        if (model.PrefillDtype != model.DecodeDtype)
        {
            using Tensor prefillDtypeLogits = model.Prefill(prompt, null, 0);
            using Tensor decodeDtypeLogits = model.Prefill(prompt, null, 0, computeDtype: model.DecodeDtype);
            dtypeCheck = new PrefillDtypeCheck(
                (prefillDtypeLogits - decodeDtypeLogits).abs().max().item<float>(),
                decodeDtypeLogits.abs().max().item<float>(),
                prefillDtypeLogits.argmax().item<long>() == decodeDtypeLogits.argmax().item<long>());
        }

        var decode = new List<DecodeThroughput>();
        int[] context = prompt[..decodeContext];
        foreach (int batch in batchSizes)
        {
            for (int slot = 0; slot < maxBatch; slot++) cache.Clear(slot);
            model.Prefill(context, cache, 0).Dispose();
            for (int slot = 1; slot < batch; slot++) cache.CopySlot(0, slot);
            int position = decodeContext;
            int[] tokens = Enumerable.Repeat(prompt[0], batch).ToArray();
            void Step()
            {
                model.DecodeStep(tokens, Enumerable.Repeat(position, batch).ToArray(), cache).Dispose();
                position++;
            }
            for (int i = 0; i < decodeSteps; i++) Step();
            double stepSeconds = Median(Enumerable.Range(0, repetitions)
                .Select(_ => Seconds(() => { for (int i = 0; i < decodeSteps; i++) Step(); }) / decodeSteps));
            decode.Add(new DecodeThroughput(batch, decodeContext, batch / stepSeconds, stepSeconds * 1000));
        }

        return new EngineThroughputResult(
            prefillTokens,
            prefillTokens / prefillSeconds,
            PrefillFlops(model, prefillTokens) / prefillSeconds / 1e9,
            model.PrefillDtype.ToString(),
            decode,
            model.DecodeDtype.ToString(),
            DecodeWeightBytes(model),
            dtypeCheck);
    }

    /// <summary>
    /// Bytes a batch-1 decode step must stream from memory: every weight the step multiplies by (the embedding
    /// once, as the tied or untied output projection; one embedding row is negligible), in the decode dtype.
    /// </summary>
    public static long DecodeWeightBytes(CausalLm model) =>
        model.parameters().Sum(p => p.numel() * p.element_size());

    /// <summary>Matrix-product FLOPs of one prefill: 2·params·T for the projections, causal attention, one LM-head row.</summary>
    public static double PrefillFlops(CausalLm model, int tokens)
    {
        var c = model.Config;
        double perBlockProjection = 2.0 * c.HiddenSize *
            ((c.NumHeads + 2.0 * c.NumKvHeads) * c.HeadDim + c.NumHeads * c.HeadDim + 3.0 * c.IntermediateSize);
        double perBlockAttention = 2.0 * 2.0 * c.NumHeads * c.HeadDim * tokens * (tokens + 1) / 2.0;
        int blocks = model.Plan.RunBlocks.Count;
        return blocks * (perBlockProjection * tokens + perBlockAttention) + 2.0 * c.HiddenSize * c.VocabSize;
    }

    private static double Seconds(Action action)
    {
        var stopwatch = Stopwatch.StartNew();
        action();
        return stopwatch.Elapsed.TotalSeconds;
    }

    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
