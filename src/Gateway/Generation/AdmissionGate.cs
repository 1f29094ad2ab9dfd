using Microsoft.Extensions.Options;

namespace PdServe.Gateway.Generation;

/// <summary>
/// Bounds the generation requests the gateway serves at once; a bounded number wait, the next is refused with 429
/// and Retry-After, as is one that waited past the queue timeout.
/// </summary>
public sealed class AdmissionGate : IDisposable
{
    private readonly SemaphoreSlim slots;
    private readonly AdmissionLimits limits;
    private int waiting;

    public AdmissionGate(IOptions<AdmissionLimits> limits)
    {
        this.limits = limits.Value;
        slots = new SemaphoreSlim(this.limits.MaxConcurrentRequests, this.limits.MaxConcurrentRequests);
    }

    /// <summary>Waits for a slot; dispose the returned lease to free it.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        if (slots.Wait(0)) return new Lease(slots);
        if (Interlocked.Increment(ref waiting) > limits.MaxQueuedRequests)
        {
            Interlocked.Decrement(ref waiting);
            throw new GenerationException(GenerationFailure.Overloaded, "The gateway's queue is full; retry later");
        }
        try
        {
            if (!await slots.WaitAsync(limits.QueueTimeout, cancellationToken))
                throw new GenerationException(GenerationFailure.Overloaded, $"No generation slot freed within {limits.QueueTimeout.TotalSeconds:0} s; retry later");
            return new Lease(slots);
        }
        finally
        {
            Interlocked.Decrement(ref waiting);
        }
    }

    public void Dispose() => slots.Dispose();

    private sealed class Lease(SemaphoreSlim slots) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0) slots.Release();
        }
    }
}
