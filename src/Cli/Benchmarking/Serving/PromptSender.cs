using System.Diagnostics;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// Sends one rate's prompts open loop: each at its Poisson arrival time, whether or not earlier ones have finished
/// (<c>--max-concurrency</c> makes an arrival wait for a free slot).
/// </summary>
public static class PromptSender
{
    public static async Task<RateRun> SendAsync(CompletionCall call, IReadOnlyList<BenchPrompt> prompts, double rate, int? maxConcurrency,
        int seed, string label, IServeBenchObserver observer, CancellationToken cancellationToken)
    {
        // The same arrival pattern for every rate's seed, scaled by the rate.
        IReadOnlyList<TimeSpan> offsets = PoissonArrivals.Offsets(rate, prompts.Count, seed);
        using var slots = maxConcurrency is { } max ? new SemaphoreSlim(max) : null;
        var outcomes = new RequestOutcome[prompts.Count];
        var tasks = new List<Task>(prompts.Count);
        var gauge = new InFlightGauge();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < prompts.Count; i++)
        {
            TimeSpan wait = offsets[i] - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken);
            if (slots is not null) await slots.WaitAsync(cancellationToken);
            int index = i;
            tasks.Add(Task.Run(async () =>
            {
                gauge.Enter();
                try
                {
                    var outcome = await call.SendAsync(prompts[index], Stopwatch.GetElapsedTime(start).TotalSeconds, cancellationToken);
                    outcomes[index] = outcome;
                    observer.RequestFinished(label, outcome);
                }
                finally
                {
                    gauge.Exit();
                    slots?.Release();
                }
            }, cancellationToken));
        }
        await Task.WhenAll(tasks);
        return new RateRun(outcomes, Stopwatch.GetElapsedTime(start).TotalSeconds, gauge.Peak);
    }
}
