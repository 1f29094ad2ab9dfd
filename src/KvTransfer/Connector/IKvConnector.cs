using PdServe.Contracts;

namespace PdServe.KvTransfer.Connector;

/// <summary>
/// The KV connector: how one prompt's KV cache leaves the prefill node and arrives on the decode node. The sending
/// half runs on the prefill node's worker as each layer finishes, the receiving half on the decode node as chunks
/// arrive; both speak bytes and float32 buffers, never tensors, and neither knows the transport that carries them.
/// </summary>
public interface IKvConnector
{
    /// <summary>The sending half of one transfer of <paramref name="layout"/>, in chunks of at most <paramref name="maxChunkBytes"/>.</summary>
    KvSender StartSending(KvTransferLayout layout, int maxChunkBytes);

    /// <summary>The receiving half of the transfer <paramref name="header"/> announces; throws <see cref="KvTransferException"/> if it does not match.</summary>
    KvReceiver StartReceiving(KvHeader header, ExpectedKv expected);
}
