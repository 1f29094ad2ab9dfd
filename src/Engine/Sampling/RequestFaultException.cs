namespace PdServe.Engine.Sampling;

/// <summary>
/// A request failed because of itself — its input, or numbers it led to (non-finite logits) — not because the engine
/// or the node is broken. Only that request's stream ends with it; callers report it as the request's fault
/// (INVALID_ARGUMENT, HTTP 400) and never take a node out of service for it.
/// </summary>
public sealed class RequestFaultException(string message, Exception? inner = null) : Exception(message, inner);
