namespace PdServe.Gateway.Generation;

/// <summary>Why a generation could not be served, as the client is to learn it (the API maps each to a status).</summary>
public enum GenerationFailure
{
    /// <summary>The gateway's queue or the nodes are full: retry later.</summary>
    Overloaded,
    /// <summary>A node refused the request for the request's own reason (a value it cannot serve, non-finite logits).</summary>
    RequestRefused,
    /// <summary>The decode node's connection broke after the client already received output, so no retry was possible.</summary>
    NodeUnreachable,
    /// <summary>Nodes declared themselves down or could not be reached, and the retry failed too.</summary>
    NodeUnavailable,
    /// <summary>Any other node failure that the retry did not overcome.</summary>
    NodeFailed,
}
