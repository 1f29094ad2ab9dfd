using Grpc.Core;
using PdServe.Contracts;

namespace PdServe.Gateway.Generation;

/// <summary>
/// What a failed Generate call means for the gateway, by the fault contract (<see cref="NodeFault"/>): whose fault it
/// was (so only that node leaves its pool), whether another node could succeed (retry), and what the client is told.
/// The client never sees node addresses or detail text, except a request fault's detail, which describes the
/// request's own problem.
/// </summary>
public sealed record NodeCallFailure(NodeCallFailure.Cause Kind, FaultSide? Side, bool Transport)
{
    public enum Cause
    {
        /// <summary>The request itself (INVALID_ARGUMENT, or <c>request</c>): 400, nobody is blamed, no retry.</summary>
        Request,
        /// <summary>The gateway lost the decode node's connection (it saw the transport failure itself).</summary>
        DecodeUnreachable,
        /// <summary>The decode node declared itself down (<c>self</c> + UNAVAILABLE, or UNAVAILABLE with no trailer).</summary>
        DecodeDown,
        /// <summary>The decode node reports the prefill node it dialed unavailable or stalled (<c>peer</c>).</summary>
        PrefillDown,
        /// <summary>A node is out of capacity (RESOURCE_EXHAUSTED): another may have room.</summary>
        Overloaded,
        /// <summary>A node refused the gateway's node token: configuration, which no retry mends.</summary>
        NodeTokenRefused,
        /// <summary>Any other failure: retried elsewhere, nobody evicted.</summary>
        Other,
    }

    public static NodeCallFailure From(RpcException e)
    {
        FaultSide? side = NodeFault.Of(e);
        // The client side of gRPC attaches the transport exception when the decode node could not be reached or
        // dropped the connection; a status a node sent has none (and carries the trailer).
        bool transport = e.Status.DebugException is not null && side is null;
        Cause kind = (side, e.StatusCode) switch
        {
            // Whatever side a node names, a refused node token is the cluster's configuration, not the request.
            (_, StatusCode.Unauthenticated or StatusCode.PermissionDenied) => Cause.NodeTokenRefused,
            (FaultSide.Request, _) or (_, StatusCode.InvalidArgument) => Cause.Request,
            _ when transport => Cause.DecodeUnreachable,
            (FaultSide.Self or null, StatusCode.Unavailable) => Cause.DecodeDown,
            (FaultSide.Peer, StatusCode.Unavailable or StatusCode.DeadlineExceeded) => Cause.PrefillDown,
            (_, StatusCode.ResourceExhausted) => Cause.Overloaded,
            _ => Cause.Other,
        };
        return new NodeCallFailure(kind, side, transport);
    }

    public bool EvictDecodeNode => Kind is Cause.DecodeUnreachable or Cause.DecodeDown;
    public bool EvictPrefillNode => Kind is Cause.PrefillDown;
    public bool Retryable => Kind is not (Cause.Request or Cause.NodeTokenRefused);

    /// <summary>
    /// What the client is told when the call is not retried. <paramref name="outputDelivered"/>: some of the call's
    /// output already reached the client (a stream), which is why no retry was possible.
    /// </summary>
    public GenerationException ClientError(string requestId, string nodeDetail, bool outputDelivered)
    {
        string seeLog = $"(request {requestId}); see the gateway log";
        return Kind switch
        {
            Cause.Request => new(GenerationFailure.RequestRefused, $"The request cannot be served: {NodeDetailText.ForClient(nodeDetail)}"),
            Cause.DecodeUnreachable when outputDelivered =>
                new(GenerationFailure.NodeUnreachable, $"The connection to the node generating this response broke {seeLog}"),
            Cause.DecodeUnreachable or Cause.DecodeDown or Cause.PrefillDown =>
                new(GenerationFailure.NodeUnavailable, $"The nodes tried for this request were unavailable {seeLog}"),
            Cause.Overloaded => new(GenerationFailure.Overloaded, $"The nodes are full (request {requestId}); retry later"),
            _ => new(GenerationFailure.NodeFailed, $"Generation failed on a node {seeLog}"),
        };
    }
}
