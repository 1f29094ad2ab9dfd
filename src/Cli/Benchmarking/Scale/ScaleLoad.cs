using System.Collections.Concurrent;
using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// The rehearsal's steady load, as <c>bench serve</c> sends it: seeded Poisson arrivals at one rate through bench serve's
/// own client (<see cref="CompletionCall"/>: streamed, every HTTP error, error event or missing end is a failure with
/// its reason), at most a set number in flight (arrivals wait for a slot), until told to stop sending; then the
/// requests in flight finish.
/// </summary>
public sealed class ScaleLoad(CompletionCall call, IReadOnlyList<BenchPrompt> prompts, double rate, int maxConcurrency, int seed, Func<double> now)
{
    private readonly ConcurrentQueue<ScaleRequest> ended = new();
    private int sent;
    private int inFlight;

    public int Sent => Volatile.Read(ref sent);
    public int InFlight => Volatile.Read(ref inFlight);
    public IReadOnlyList<ScaleRequest> Ended => [.. ended.OrderBy(r => r.SentAtSeconds)];
    public int Failed => ended.Count(r => !r.Success);
    public int Completed => ended.Count(r => r.Success);

    /// <summary>Sends until <paramref name="stopSending"/>, then waits for the requests in flight; <paramref name="abort"/> cancels those too.</summary>
    public async Task RunAsync(CancellationToken stopSending, CancellationToken abort)
    {
        var random = new Random(seed);
        using var slots = new SemaphoreSlim(maxConcurrency);
        var running = new List<Task>();
        double next = now();
        try
        {
            for (int i = 0; !stopSending.IsCancellationRequested; i++)
            {
                double wait = next - now();
                if (wait > 0) await Task.Delay(TimeSpan.FromSeconds(wait), stopSending);
                await slots.WaitAsync(stopSending);
                running.Add(SendAsync(prompts[i % prompts.Count], slots, abort));
                // Inverse transform of U in (0, 1]: never ln(0).
                next += -Math.Log(1.0 - random.NextDouble()) / rate;
            }
        }
        catch (OperationCanceledException) when (stopSending.IsCancellationRequested)
        {
            // Sending is over; what was sent finishes below.
        }
        await Task.WhenAll(running);
    }

    private async Task SendAsync(BenchPrompt prompt, SemaphoreSlim slots, CancellationToken abort)
    {
        double sentAt = now();
        Interlocked.Increment(ref sent);
        Interlocked.Increment(ref inFlight);
        try
        {
            var outcome = await call.SendAsync(prompt, sentAt, abort);
            ended.Enqueue(ScaleRequest.From(outcome, sentAt, now()));
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            ended.Enqueue(new ScaleRequest(sentAt, now(), false, "cancelled: the rehearsal was stopped", 0, 0, null, null, 0));
        }
        finally
        {
            Interlocked.Decrement(ref inFlight);
            slots.Release();
        }
    }
}
