namespace PdServe.Prefill;

/// <summary>Bytes of computed KV the node holds for readers (queued on streams, not yet written). Thread-safe.</summary>
public sealed class KvHoldAccount
{
    private long heldBytes;

    public long HeldBytes => Interlocked.Read(ref heldBytes);

    public void Add(long bytes) => Interlocked.Add(ref heldBytes, bytes);

    public void Release(long bytes) => Interlocked.Add(ref heldBytes, -bytes);
}
