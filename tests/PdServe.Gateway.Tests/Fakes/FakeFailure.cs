using Grpc.Core;
using PdServe.Contracts;

namespace PdServe.Gateway.Tests.Fakes;

/// <summary>
/// How a fake decode node fails a call: with <see cref="Code"/> and, when <see cref="Side"/> is set, the
/// <c>pdserve-fault</c> trailer a real node sends; or, with <see cref="CutConnection"/>, by aborting the call's
/// HTTP/2 connection (the gateway sees a transport failure). The default detail names internal addresses, as a
/// careless node might, so tests can check none reaches a client.
/// </summary>
public sealed record FakeFailure(StatusCode Code, FaultSide? Side, string Detail = FakeFailure.DetailWithAddresses)
{
    public const string DetailWithAddresses = "prefill node http://127.0.0.1:9 (10.0.0.7:8101) failed: System.IO.IOException: connection reset";

    /// <summary>Abort the call's connection instead of sending a status.</summary>
    public bool CutConnection { get; init; }
    /// <summary>Tokens streamed before the failure.</summary>
    public int AfterTokens { get; init; }
    /// <summary>When set, a failure after tokens waits for it, so a test can first see those tokens arrive.</summary>
    public TaskCompletionSource? Trigger { get; init; }
    /// <summary>How many calls fail, counted over every node given this instance; later calls are served normally.</summary>
    public int Calls { get; init; } = int.MaxValue;
    /// <summary>Fail only calls whose prompt holds this token id (a poison request); others are served normally.</summary>
    public int? PromptToken { get; init; }

    private int taken;

    /// <summary>True when this call is one to fail (and counts it).</summary>
    public bool Takes(GenerateRequest request) =>
        (PromptToken is not { } token || request.PromptTokenIds.Contains(token)) && Interlocked.Increment(ref taken) <= Calls;

    public static FakeFailure Cut() => new(StatusCode.Unavailable, null) { CutConnection = true };

    public RpcException Exception() =>
        Side is { } side ? NodeFault.Error(Code, Detail, side) : new RpcException(new Status(Code, Detail));

    public override string ToString() => CutConnection ? "cut connection" : $"{Code} {(Side is { } s ? NodeFault.Name(s) : "no trailer")}";
}
