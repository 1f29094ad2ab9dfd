using Grpc.Core;

namespace PdServe.Contracts;

/// <summary>
/// The fault contract between PdServe's processes: every status a node sends carries trailing metadata
/// <see cref="TrailerKey"/> = <c>request</c> | <c>self</c> | <c>peer</c> (<see cref="FaultSide"/>), so a caller
/// never has to guess from the status code whom to blame. A status without it did not come from a PdServe handler
/// (a transport failure, or the HTTP/2 stack of a node going away).
/// </summary>
public static class NodeFault
{
    /// <summary>The trailing-metadata key; its value is the lower-case <see cref="FaultSide"/> name.</summary>
    public const string TrailerKey = "pdserve-fault";

    /// <summary>A status for the caller, attributed to <paramref name="side"/>.</summary>
    public static RpcException Error(StatusCode code, string message, FaultSide side) =>
        new(new Status(code, message), Trailers(side));

    public static Metadata Trailers(FaultSide side) => new() { { TrailerKey, Name(side) } };

    /// <summary>The side a received status names, or null when it carries none.</summary>
    public static FaultSide? Of(RpcException error) => Parse(error.Trailers.GetValue(TrailerKey));

    public static FaultSide? Parse(string? value) => value switch
    {
        "request" => FaultSide.Request,
        "self" => FaultSide.Self,
        "peer" => FaultSide.Peer,
        _ => null,
    };

    public static string Name(FaultSide side) => side switch
    {
        FaultSide.Request => "request",
        FaultSide.Self => "self",
        FaultSide.Peer => "peer",
        _ => throw new ArgumentOutOfRangeException(nameof(side), side, null),
    };
}
