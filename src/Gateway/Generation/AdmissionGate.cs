using Microsoft.Extensions.Options;

namespace PdServe.Gateway.Generation;

/// <summary>
/// Bounds the generation requests the gateway serves at once; a bounded number wait, the next is refused with 429
/// and Retry-After, as is one that waited past the queue timeout.
/// </summary>
public sealed class AdmissionGate : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly AdmissionLimits _limits;
    private int _waiting;

    public AdmissionGate(IOptions<AdmissionLimits> limits)
    {
        _limits = limits.Value;
        _slots = new SemaphoreSlim(_limits.MaxConcurrentRequests, _limits.MaxConcurrentRequests);
    }

    /// <summary>Waits for a slot; dispose the returned lease to free it.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        if (_slots.Wait(0)) return new Lease(_slots);
        if (Interlocked.Increment(ref _waiting) > _limits.MaxQueuedRequests)
        {
            Interlocked.Decrement(ref _waiting);
            throw new GenerationException(GenerationFailure.Overloaded, "The gateway's queue is full; retry later");
        }
        try
        {
            if (!await _slots.WaitAsync(_limits.QueueTimeout, cancellationToken))
                throw new GenerationException(GenerationFailure.Overloaded, $"No generation slot freed within {_limits.QueueTimeout.TotalSeconds:0} s; retry later");
            return new Lease(_slots);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    public void Dispose() => _slots.Dispose();

    private sealed class Lease(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) slots.Release();
        }
    }
}
