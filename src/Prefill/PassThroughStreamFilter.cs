using PdServe.Contracts;

namespace PdServe.Prefill;

/// <summary>Writes every header and chunk as the worker made it, at once.</summary>
public sealed class PassThroughStreamFilter : IPrefillStreamFilter
{
    public void BeforeLayerEncoded(int layer, CancellationToken cancellation) { }

    public KvHeader Header(KvHeader header) => header;

    public ValueTask<KvChunk> ChunkAsync(KvChunk chunk, CancellationToken cancellation) => ValueTask.FromResult(chunk);
}
