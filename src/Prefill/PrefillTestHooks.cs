using PdServe.KvTransfer.Protocol;

namespace PdServe.Prefill;

/// <summary>
/// Failure injection for tests: what a broken network or a stalled node would do to a stream. Only the node's
/// stream writer consults these, once per chunk.
/// </summary>
public sealed record PrefillTestHooks
{
    /// <summary>Replaces a chunk just before it is written (after its checksum was recorded), e.g. to flip a byte.</summary>
    public Func<KvChunk, KvChunk>? AlterChunk { get; init; }

    /// <summary>Awaited before chunk <c>sequence</c> is written; a task that does not complete stalls the stream there.</summary>
    public Func<int, CancellationToken, Task>? BeforeChunk { get; init; }
}
