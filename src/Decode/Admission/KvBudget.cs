namespace PdServe.Decode.Admission;

/// <summary>
/// The decode node's admission control: KV bytes reserved by admitted requests, and bytes of parked conversations
/// (the conversation cache), against one fixed budget. Parked KV is only a guess that a
/// conversation comes back, so it always yields: a reservation that does not fit evicts parked conversations, oldest
/// first, before it is refused, and parking never evicts what a running request reserved.
/// </summary>
public sealed class KvBudget(long budgetBytes)
{
    private readonly Lock gate = new();
    private long reserved;
    private long parked;

    public long BudgetBytes { get; } = budgetBytes;

    /// <summary>Evicts the least recently used parked conversation; false when none is left. Set by the conversation cache.</summary>
    internal Func<bool>? EvictOldestParked { get; set; }

    public long ReservedBytes
    {
        get
        {
            lock (gate) return reserved;
        }
    }

    public long ParkedBytes
    {
        get
        {
            lock (gate) return parked;
        }
    }

    /// <summary>Reserved bytes over the budget: what admission is up against (parked bytes would yield to a request).</summary>
    public double Usage => BudgetBytes == 0 ? 1 : Math.Min(1.0, (double)ReservedBytes / BudgetBytes);

    /// <summary>
    /// A reservation of <paramref name="bytes"/>, evicting parked conversations while that makes it fit, or null when
    /// the running requests leave no room; disposing it gives the bytes back.
    /// </summary>
    public Reservation? TryReserve(long bytes)
    {
        while (true)
        {
            lock (gate)
            {
                if (reserved + parked + bytes <= BudgetBytes)
                {
                    reserved += bytes;
                    return new Reservation(this, bytes);
                }
                if (parked == 0 || reserved + bytes > BudgetBytes) return null;
            }
            // Outside the lock: eviction takes the cache's lock and then gives bytes back here.
            if (EvictOldestParked?.Invoke() != true) return null;
        }
    }

    /// <summary>Counts <paramref name="bytes"/> of parked KV if they fit beside what is reserved and parked now.</summary>
    internal bool TryPark(long bytes)
    {
        lock (gate)
        {
            if (reserved + parked + bytes > BudgetBytes) return false;
            parked += bytes;
            return true;
        }
    }

    /// <summary>Whether <paramref name="bytes"/> of parked KV could fit at all, once every parked conversation is gone.</summary>
    internal bool CouldPark(long bytes)
    {
        lock (gate) return reserved + bytes <= BudgetBytes;
    }

    internal void Unpark(long bytes)
    {
        lock (gate) parked -= bytes;
    }

    private void Release(long bytes)
    {
        lock (gate) reserved -= bytes;
    }

    public sealed class Reservation(KvBudget budget, long bytes) : IDisposable
    {
        private int released;

        public long Bytes { get; } = bytes;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0) budget.Release(Bytes);
        }
    }
}
