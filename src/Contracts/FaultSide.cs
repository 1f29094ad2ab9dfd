namespace PdServe.Contracts;

/// <summary>
/// Who caused a failed call, from the point of view of the node that reports it. The gateway evicts a node only for
/// <see cref="Self"/> unavailability (or a transport failure it saw itself), a prefill node only when the decode node
/// reports <see cref="Peer"/> unavailability, and never anyone for <see cref="Request"/>.
/// </summary>
public enum FaultSide
{
    /// <summary>The request itself: bad input, or numbers it led to (e.g. non-finite logits). INVALID_ARGUMENT.</summary>
    Request,
    /// <summary>The reporting node: not loaded, shutting down, out of KV budget, or an internal error.</summary>
    Self,
    /// <summary>The node the reporting node called for this request (a decode node's prefill node).</summary>
    Peer,
}
