using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;
using PdServe.Contracts;

namespace PdServe.Gateway.Routing;

/// <summary>
/// One gRPC channel per decode node address (h2c for <c>http://</c>), reused by every request, and the metadata every
/// call carries: the shared node token as <c>x-pdserve-token</c>.
/// </summary>
public sealed class DecodeClients(IOptionsMonitor<RoutingOptions> options) : IDisposable
{

    private readonly ConcurrentDictionary<string, GrpcChannel> channels = new(StringComparer.OrdinalIgnoreCase);

    public DecodeService.DecodeServiceClient For(string address) =>
        new(channels.GetOrAdd(address, a => GrpcChannel.ForAddress(a, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                // A dead node must fail the call promptly, not after the OS's connect timeout.
                ConnectTimeout = TimeSpan.FromSeconds(2),
                KeepAlivePingDelay = TimeSpan.FromSeconds(10),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            },
            // Token streams are small; prompts (token ids) are bounded by the prompt limit.
            MaxReceiveMessageSize = 16 << 20,
        })));

    public Metadata Headers()
    {
        var headers = new Metadata();
        string token = options.CurrentValue.NodeToken;
        if (token.Length > 0) headers.Add(PdServe.Contracts.NodeToken.Header, token);
        return headers;
    }

    public void Dispose()
    {
        foreach (var channel in channels.Values) channel.Dispose();
        channels.Clear();
    }
}
