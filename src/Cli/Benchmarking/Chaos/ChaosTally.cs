using System.Collections.Concurrent;

namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>The run's counters as requests start and end (for the progress line and the time series), and every outcome.</summary>
public sealed class ChaosTally
{
    private readonly ConcurrentQueue<ChaosOutcome> outcomes = new();
    private int sent, inFlight, completed, cancelled, failed, lost, kills;
    private long outputTokens;

    public int Sent => Volatile.Read(ref sent);
    public int InFlight => Volatile.Read(ref inFlight);
    public int Completed => Volatile.Read(ref completed);
    public int Cancelled => Volatile.Read(ref cancelled);
    public int FailedCount => Volatile.Read(ref failed);
    public int Lost => Volatile.Read(ref lost);
    public int Kills => Volatile.Read(ref kills);
    /// <summary>Output tokens (usage) of completed requests so far.</summary>
    public long OutputTokens => Interlocked.Read(ref outputTokens);
    public IReadOnlyList<ChaosOutcome> Outcomes => [.. outcomes];

    public void Started()
    {
        Interlocked.Increment(ref sent);
        Interlocked.Increment(ref inFlight);
    }

    public void Ended(ChaosOutcome outcome)
    {
        outcomes.Enqueue(outcome);
        Interlocked.Decrement(ref inFlight);
        switch (outcome.Kind)
        {
            case ChaosOutcomeKind.Completed:
                Interlocked.Increment(ref completed);
                Interlocked.Add(ref outputTokens, outcome.OutputTokens);
                break;
            case ChaosOutcomeKind.Cancelled:
                Interlocked.Increment(ref cancelled);
                break;
            case ChaosOutcomeKind.Failed:
                Interlocked.Increment(ref failed);
                break;
            default:
                Interlocked.Increment(ref lost);
                break;
        }
    }

    public void Killed() => Interlocked.Increment(ref kills);
}
