namespace PdServe.Gateway.Routing;

/// <summary>
/// Which decode node parked which prompt: a decode node's summary says it parked a call's prompt, and the gateway
/// remembers the prompt's hash with that node's address, most recent first out beyond <see cref="Capacity"/> entries.
/// A new prompt's longest remembered strict prefix names the node holding the most of its KV. Thread-safe.
/// </summary>
public sealed class ConversationDirectory(int capacity)
{
    private readonly Dictionary<ulong, LinkedListNode<(ulong Hash, string Address)>> byHash = new();
    private readonly LinkedList<(ulong Hash, string Address)> byAge = new();
    private readonly Lock gate = new();

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    public int Count
    {
        get
        {
            lock (gate) return byHash.Count;
        }
    }

    /// <summary>Remembers that <paramref name="address"/> parked the prompt whose prefix hashes are <paramref name="prefixHashes"/>.</summary>
    public void Record(ulong[] prefixHashes, string address)
    {
        if (prefixHashes.Length == 0) return;
        ulong hash = prefixHashes[^1];
        lock (gate)
        {
            if (byHash.Remove(hash, out var old)) byAge.Remove(old);
            byHash[hash] = byAge.AddLast((hash, address));
            while (byHash.Count > Capacity)
            {
                byHash.Remove(byAge.First!.Value.Hash);
                byAge.RemoveFirst();
            }
        }
    }

    /// <summary>The node that parked the longest strict prefix of the prompt, and that prefix's length; null when none.</summary>
    public (string Address, int Tokens)? Find(ulong[] prefixHashes)
    {
        lock (gate)
        {
            // A parked prompt serves only a longer one: the last position's hash (the whole prompt) is not looked up.
            for (int length = prefixHashes.Length - 1; length >= 1; length--)
            {
                if (byHash.TryGetValue(prefixHashes[length - 1], out var node)) return (node.Value.Address, length);
            }
            return null;
        }
    }
}
