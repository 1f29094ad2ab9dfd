namespace PdServe.Decode;

/// <summary>The decode node's admission control: KV bytes reserved by admitted requests against a fixed budget.</summary>
public sealed class KvBudget(long budgetBytes)
{
    private readonly Lock gate = new();
    private long reserved;

    public long BudgetBytes { get; } = budgetBytes;

    public long ReservedBytes
    {
        get
        {
            lock (gate) return reserved;
        }
    }

    public double Usage => BudgetBytes == 0 ? 1 : Math.Min(1.0, (double)ReservedBytes / BudgetBytes);

    /// <summary>A reservation of <paramref name="bytes"/>, or null when it does not fit; disposing it gives the bytes back.</summary>
    public Reservation? TryReserve(long bytes)
    {
        lock (gate)
        {
            if (reserved + bytes > BudgetBytes) return null;
            reserved += bytes;
        }
        return new Reservation(this, bytes);
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
