using PdServe.Contracts;

namespace PdServe.Prefill;

/// <summary>
/// The points of a prefill transfer between the worker and the wire where it can be watched or changed: the node
/// runs <see cref="PassThroughStreamFilter"/>; a host may register another (failure injection: a flipped byte, a
/// stalled stream, a header that breaks the protocol).
/// </summary>
public interface IPrefillStreamFilter
{
    /// <summary>
    /// Called on the worker thread before it encodes layer <paramref name="layer"/>'s KV (after its cancellation check),
    /// with the job's cancellation; blocking here holds the worker inside the layer.
    /// </summary>
    void BeforeLayerEncoded(int layer, CancellationToken cancellation);

    /// <summary>The header to write in place of <paramref name="header"/>.</summary>
    KvHeader Header(KvHeader header);

    /// <summary>Awaited before a chunk is written (after its checksum was recorded): the chunk to write in its place.</summary>
    ValueTask<KvChunk> ChunkAsync(KvChunk chunk, CancellationToken cancellation);
}
