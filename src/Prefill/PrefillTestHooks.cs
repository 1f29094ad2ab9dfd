using PdServe.Contracts;

namespace PdServe.Prefill;

/// <summary>
/// Failure injection for tests: what a broken network, a stalled node or a peer that breaks the protocol would do to
/// a stream. The node's stream writer consults the header and chunk hooks; the worker consults
/// <see cref="BeforeLayerEncoded"/>.
/// </summary>
public sealed record PrefillTestHooks
{
    /// <summary>Replaces the header just before it is written, e.g. to break the protocol.</summary>
    public Func<KvHeader, KvHeader>? AlterHeader { get; init; }

    /// <summary>Replaces a chunk just before it is written (after its checksum was recorded), e.g. to flip a byte.</summary>
    public Func<KvChunk, KvChunk>? AlterChunk { get; init; }

    /// <summary>Awaited before chunk <c>sequence</c> is written; a task that does not complete stalls the stream there.</summary>
    public Func<int, CancellationToken, Task>? BeforeChunk { get; init; }

    /// <summary>
    /// Called on the worker thread before it encodes layer <c>layer</c>'s KV (after its cancellation check), with the
    /// job's cancellation; blocking here holds the worker inside the layer while the call ends.
    /// </summary>
    public Action<int, CancellationToken>? BeforeLayerEncoded { get; init; }
}
