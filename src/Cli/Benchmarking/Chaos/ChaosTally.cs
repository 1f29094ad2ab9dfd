using System.Collections.Concurrent;

namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>The run's counters as requests start and end (for the progress line and the time series), and every outcome.</summary>
public sealed class ChaosTally
{
    private readonly ConcurrentQueue<ChaosOutcome> _outcomes = new();
    private int _sent, _inFlight, _completed, _cancelled, _failed, _lost, _kills;
    private long _outputTokens;

    public int Sent => Volatile.Read(ref _sent);
    public int InFlight => Volatile.Read(ref _inFlight);
    public int Completed => Volatile.Read(ref _completed);
    public int Cancelled => Volatile.Read(ref _cancelled);
    public int FailedCount => Volatile.Read(ref _failed);
    public int Lost => Volatile.Read(ref _lost);
    public int Kills => Volatile.Read(ref _kills);
    /// <summary>Output tokens (usage) of completed requests so far.</summary>
    public long OutputTokens => Interlocked.Read(ref _outputTokens);
    public IReadOnlyList<ChaosOutcome> Outcomes => [.. _outcomes];

    public void Started()
    {
        Interlocked.Increment(ref _sent);
        Interlocked.Increment(ref _inFlight);
    }

    public void Ended(ChaosOutcome outcome)
    {
        _outcomes.Enqueue(outcome);
        Interlocked.Decrement(ref _inFlight);
        switch (outcome.Kind)
        {
            case ChaosOutcomeKind.Completed:
                Interlocked.Increment(ref _completed);
                Interlocked.Add(ref _outputTokens, outcome.OutputTokens);
                break;
            case ChaosOutcomeKind.Cancelled:
                Interlocked.Increment(ref _cancelled);
                break;
            case ChaosOutcomeKind.Failed:
                Interlocked.Increment(ref _failed);
                break;
            default:
                Interlocked.Increment(ref _lost);
                break;
        }
    }

    public void Killed() => Interlocked.Increment(ref _kills);
}
