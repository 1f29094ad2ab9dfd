using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using PdServe.Contracts;
using PdServe.KvTransfer;

namespace PdServe.NodeHosting;

/// <summary>Refuses gRPC calls whose <see cref="NodeToken.Header"/> does not match the node's token.</summary>
public sealed class NodeTokenInterceptor(string token) : Interceptor
{
    private readonly byte[] expected = Encoding.UTF8.GetBytes(token);

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    private void Check(ServerCallContext context)
    {
        string? presented = context.RequestHeaders.GetValue(NodeToken.Header);
        // Constant-time comparison: the token is a secret.
        if (presented is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), expected))
            // The call's own credentials are wrong: the request's fault, whoever sent it.
            throw NodeFault.Error(StatusCode.Unauthenticated,
                presented is null ? $"this node requires the cluster's node token in '{NodeToken.Header}'" : $"wrong node token in '{NodeToken.Header}'",
                FaultSide.Request);
    }
}
