namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>Requests in flight as the client sees them, and the most at once (thread-safe).</summary>
public sealed class InFlightGauge
{
    private int inFlight;
    private int peak;

    public int Peak => Volatile.Read(ref peak);

    public void Enter()
    {
        int now = Interlocked.Increment(ref inFlight);
        int seen;
        while (now > (seen = Volatile.Read(ref peak)) && Interlocked.CompareExchange(ref peak, now, seen) != seen)
        {
        }
    }

    public void Exit() => Interlocked.Decrement(ref inFlight);
}
