using System.Diagnostics;
using LlamaCppPeer.LlamaCpp;

namespace LlamaCppPeer.Measurement;

/// <summary>Decode speed at one batch size, in the units and field names of <c>pdserve bench engine</c>'s JSON.</summary>
public sealed record PeerDecodeThroughput(int BatchSize, int ContextTokens, double TokensPerSecond, double MillisecondsPerStep);

/// <summary>What <see cref="PeerThroughput"/> measured; field names as in <c>pdserve bench engine</c>'s "measured".</summary>
public sealed record PeerThroughputResult(
    int PrefillTokens,
    double PrefillTokensPerSecond,
    IReadOnlyList<PeerDecodeThroughput> Decode,
    int DecodeSteps,
    int Repetitions);

/// <summary>
/// Prefill and decode throughput of llama.cpp measured the way <c>pdserve bench engine</c> measures PdServe, so the
/// two JSON files can be put side by side: the same seeded random prompt, a warm-up and then the median of the
/// repetitions; decode steps over B sequences that each hold the prompt's first <c>decodeContext</c> tokens, all B
/// fed in one batch per step.
/// </summary>
public static class PeerThroughput
{
    public static PeerThroughputResult Run(LlamaCppSession session, int prefillTokens, IReadOnlyList<int> batchSizes,
        int decodeContext, int decodeSteps, int repetitions, int seed = 1)
    {
        // The same generator and draws as EngineThroughputBenchmark, so both engines see the same prompt.
        var random = new Random(seed);
        int[] prompt = Enumerable.Range(0, prefillTokens).Select(_ => random.Next(session.VocabSize)).ToArray();

        // Each repetition starts from an empty cache, as PdServe's prefill overwrites its slot from position 0.
        session.Clear();
        session.Prefill(prompt, 0);
        double prefillSeconds = Median(Enumerable.Range(0, repetitions).Select(_ =>
        {
            session.Clear();
            return Seconds(() => session.Prefill(prompt, 0));
        }));

        var decode = new List<PeerDecodeThroughput>();
        int[] context = prompt[..decodeContext];
        foreach (int batch in batchSizes)
        {
            session.Clear();
            for (int sequence = 0; sequence < batch; sequence++) session.Prefill(context, sequence);
            int position = decodeContext;
            int[] tokens = Enumerable.Repeat(prompt[0], batch).ToArray();
            void Step()
            {
                session.Step(tokens, Enumerable.Repeat(position, batch).ToArray());
                position++;
            }
            for (int i = 0; i < decodeSteps; i++) Step();
            double stepSeconds = Median(Enumerable.Range(0, repetitions)
                .Select(_ => Seconds(() => { for (int i = 0; i < decodeSteps; i++) Step(); }) / decodeSteps));
            decode.Add(new PeerDecodeThroughput(batch, decodeContext, batch / stepSeconds, stepSeconds * 1000));
        }
        return new PeerThroughputResult(prefillTokens, prefillTokens / prefillSeconds, decode, decodeSteps, repetitions);
    }

    /// <summary>KV cells one sequence needs for <see cref="Run"/>: the prompt, or the decode context with every step.</summary>
    public static int TokensPerSequence(int prefillTokens, int decodeContext, int decodeSteps, int repetitions) =>
        Math.Max(prefillTokens, decodeContext + decodeSteps * (repetitions + 1));

    private static double Seconds(Action action)
    {
        var stopwatch = Stopwatch.StartNew();
        action();
        return stopwatch.Elapsed.TotalSeconds;
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
