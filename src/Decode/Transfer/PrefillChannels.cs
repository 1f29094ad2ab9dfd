using Grpc.Net.Client;

namespace PdServe.Decode.Transfer;

/// <summary>
/// The decode node's gRPC channels to prefill nodes, at most <c>capacity</c> of them: the least recently used is
/// dropped for a new one, and disposed only after <c>retireAfter</c> (the transfer timeout), so pulls still running
/// on it finish. Thread-safe.
/// </summary>
public sealed class PrefillChannels(int capacity, TimeSpan retireAfter, Func<Uri, GrpcChannel> create) : IDisposable
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, LinkedListNode<(string Address, GrpcChannel Channel)>> byAddress = new(StringComparer.OrdinalIgnoreCase);
    // Most recently used first.
    private readonly LinkedList<(string Address, GrpcChannel Channel)> recency = new();
    private readonly HashSet<GrpcChannel> retiring = [];
    private bool disposed;

    public int Count
    {
        get
        {
            lock (gate) return byAddress.Count;
        }
    }

    public GrpcChannel For(Uri address)
    {
        string key = address.GetLeftPart(UriPartial.Authority);
        GrpcChannel? evicted = null;
        GrpcChannel channel;
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (byAddress.TryGetValue(key, out var known))
            {
                recency.Remove(known);
                recency.AddFirst(known);
                return known.Value.Channel;
            }
            if (byAddress.Count >= capacity && recency.Last is { } oldest)
            {
                recency.RemoveLast();
                byAddress.Remove(oldest.Value.Address);
                evicted = oldest.Value.Channel;
                retiring.Add(evicted);
            }
            channel = create(address);
            byAddress[key] = recency.AddFirst((key, channel));
        }
        if (evicted is not null) _ = RetireAsync(evicted);
        return channel;
    }

    private async Task RetireAsync(GrpcChannel channel)
    {
        await Task.Delay(retireAfter);
        lock (gate)
        {
            if (!retiring.Remove(channel)) return;
        }
        channel.Dispose();
    }

    public void Dispose()
    {
        List<GrpcChannel> all;
        lock (gate)
        {
            disposed = true;
            all = [.. recency.Select(n => n.Channel), .. retiring];
            byAddress.Clear();
            recency.Clear();
            retiring.Clear();
        }
        foreach (GrpcChannel channel in all) channel.Dispose();
    }
}
