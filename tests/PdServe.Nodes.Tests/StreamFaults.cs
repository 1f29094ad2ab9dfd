using PdServe.Contracts;
using PdServe.Prefill;

namespace PdServe.Nodes.Tests;

/// <summary>
/// Failure injection into a prefill node's stream: what a broken network, a stalled node or a peer that breaks the
/// protocol would do to it. Each hook left null passes through.
/// </summary>
public sealed record StreamFaults : IPrefillStreamFilter
{
    /// <summary>Replaces the header just before it is written, e.g. to break the protocol.</summary>
    public Func<KvHeader, KvHeader>? AlterHeader { get; init; }

    /// <summary>Replaces a chunk just before it is written (after its checksum was recorded), e.g. to flip a byte.</summary>
    public Func<KvChunk, KvChunk>? AlterChunk { get; init; }

    /// <summary>Awaited before chunk <c>sequence</c> is written; a task that does not complete stalls the stream there.</summary>
    public Func<int, CancellationToken, Task>? BeforeChunk { get; init; }

    /// <summary>Called on the worker thread before it encodes a layer; blocking here holds the worker inside the layer.</summary>
    public Action<int, CancellationToken>? BeforeLayer { get; init; }

    void IPrefillStreamFilter.BeforeLayerEncoded(int layer, CancellationToken cancellation) => BeforeLayer?.Invoke(layer, cancellation);

    KvHeader IPrefillStreamFilter.Header(KvHeader header) => AlterHeader is { } alter ? alter(header) : header;

    async ValueTask<KvChunk> IPrefillStreamFilter.ChunkAsync(KvChunk chunk, CancellationToken cancellation)
    {
        if (BeforeChunk is { } before) await before(chunk.Sequence, cancellation);
        return AlterChunk is { } alter ? alter(chunk) : chunk;
    }
}
