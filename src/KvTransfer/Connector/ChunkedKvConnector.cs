using PdServe.Contracts;

namespace PdServe.KvTransfer.Connector;

/// <summary>
/// The connector of prefill_service.proto: one header, checksummed chunks of each layer's kept positions in the
/// plan's wire dtype, one trailer. Stateless; each transfer gets its own halves.
/// </summary>
public sealed class ChunkedKvConnector : IKvConnector
{
    public KvSender StartSending(KvTransferLayout layout, int maxChunkBytes) => new(layout, maxChunkBytes);

    public KvReceiver StartReceiving(KvHeader header, ExpectedKv expected) => new(header, expected);
}
