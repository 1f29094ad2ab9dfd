namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// One node's counters sampled over time (seconds on the rehearsal's clock), and what they say about its traffic: when
/// its first call after a moment arrived, when its last one did, how many calls it completed in a window. A sample
/// shows a call once its accepted prompt tokens grew since the sample before, so every time is at most one sampling
/// interval late.
/// </summary>
public sealed class TrafficWatch
{
    private readonly List<(double At, NodeCounters Counters)> samples = [];

    public void Add(double at, NodeCounters counters)
    {
        lock (samples) samples.Add((at, counters));
    }

    public int Count
    {
        get
        {
            lock (samples) return samples.Count;
        }
    }

    /// <summary>The first sample after <paramref name="since"/> that shows a call accepted after it; null while none does.</summary>
    public double? FirstCallAfter(double since)
    {
        lock (samples)
        {
            double baseline = Baseline(since);
            foreach (var (at, counters) in samples)
                if (at > since && counters.AcceptedPromptTokens > baseline) return at;
            return null;
        }
    }

    /// <summary>The last sample after <paramref name="since"/> that showed a new call (its tokens grew since the sample before); null when none did.</summary>
    public double? LastCallAfter(double since)
    {
        lock (samples)
        {
            double? last = null;
            double previous = Baseline(since);
            foreach (var (at, counters) in samples)
            {
                if (at <= since) continue;
                if (counters.AcceptedPromptTokens > previous) last = at;
                previous = Math.Max(previous, counters.AcceptedPromptTokens);
            }
            return last;
        }
    }

    /// <summary>Calls completed between the last samples at or before <paramref name="from"/> and at or before <paramref name="to"/>.</summary>
    public double CompletedBetween(double from, double to)
    {
        lock (samples) return At(to).CompletedCalls - At(from).CompletedCalls;
    }

    // Counters start at zero with the process, so before the first sample nothing was counted.
    private double Baseline(double since) => At(since).AcceptedPromptTokens;

    private NodeCounters At(double time)
    {
        NodeCounters found = default;
        foreach (var (at, counters) in samples)
        {
            if (at > time) break;
            found = counters;
        }
        return found;
    }
}
