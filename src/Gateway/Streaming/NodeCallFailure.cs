using Grpc.Core;
using PdServe.Gateway.Api;

namespace PdServe.Gateway.Streaming;

/// <summary>
/// What a failed Generate call means for the gateway: whose fault it likely was (so that node leaves its pool),
/// whether another node could succeed (retry), and what the client is told if not.
/// </summary>
public sealed record NodeCallFailure(bool DecodeNodeFailed, bool PrefillNodeFailed, bool Retryable, ApiException Error)
{
    public static NodeCallFailure From(RpcException e)
    {
        // The client side of gRPC attaches the transport exception when the decode node itself could not be reached
        // or dropped the connection; a status the decode node sent has none.
        bool transport = e.Status.DebugException is not null;
        string detail = string.IsNullOrEmpty(e.Status.Detail) ? e.StatusCode.ToString() : e.Status.Detail;
        return e.StatusCode switch
        {
            StatusCode.InvalidArgument => new(false, false, false,
                ApiException.NodeFailed(StatusCodes.Status400BadRequest, $"The decode node refused the request: {detail}")),
            StatusCode.ResourceExhausted => new(false, false, true,
                ApiException.Overloaded($"The decode nodes are full ({detail}); retry later")),
            // Per the contract these come from the decode node about its prefill node (unreachable, stalled).
            StatusCode.Unavailable or StatusCode.DeadlineExceeded when !transport => new(false, true, true,
                ApiException.NodeFailed(StatusCodes.Status503ServiceUnavailable, $"The prefill node failed: {detail}")),
            StatusCode.Unavailable or StatusCode.DeadlineExceeded => new(true, false, true,
                ApiException.NodeFailed(StatusCodes.Status503ServiceUnavailable, $"The decode node is unreachable: {detail}")),
            StatusCode.Unauthenticated or StatusCode.PermissionDenied => new(false, false, false,
                ApiException.NodeFailed(StatusCodes.Status502BadGateway,
                    "A node refused the gateway's node token (x-pdserve-token); check that both use the same token")),
            _ => new(transport, false, true,
                ApiException.NodeFailed(StatusCodes.Status502BadGateway, $"Generation failed on a node ({e.StatusCode}): {detail}")),
        };
    }
}
