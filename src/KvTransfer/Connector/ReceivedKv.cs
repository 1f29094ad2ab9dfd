using PdServe.Contracts;
using PdServe.KvTransfer.Wire;

namespace PdServe.KvTransfer.Connector;

/// <summary>A verified transfer: every layer's KV decoded to float32, and the sender's trailer (first tokens, timings, bytes).</summary>
public sealed record ReceivedKv(IReadOnlyList<ReceivedLayerKv> Layers, KvTrailer Trailer);
