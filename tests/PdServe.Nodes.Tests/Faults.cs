using Grpc.Core;
using PdServe.Contracts;
using PdServe.KvTransfer;

namespace PdServe.Nodes.Tests;

/// <summary>Assertions on the fault contract: a status's code and its pdserve-fault trailer.</summary>
public static class Faults
{
    public static void AssertFault(RpcException error, StatusCode code, FaultSide side)
    {
        Assert.True(error.StatusCode == code, $"expected {code}, got {error.StatusCode}: {error.Status.Detail}");
        Assert.Null(error.Status.DebugException);
        Assert.Equal(side, NodeFault.Of(error));
    }

    /// <summary>A failure the client's transport saw (the node went away): no status from a handler, no trailer.</summary>
    public static void AssertTransportFailure(RpcException error)
    {
        Assert.NotNull(error.Status.DebugException);
        Assert.Null(NodeFault.Of(error));
    }
}
