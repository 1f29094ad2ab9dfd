using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using PdServe.Contracts;

namespace PdServe.Gateway.Tests.Fakes;

/// <summary>
/// A decode node without a model: an in-process gRPC DecodeService on 127.0.0.1 (h2c, like the real nodes) that
/// streams <see cref="FakeScript"/>'s tokens, serves <c>/healthz</c> and <c>/load</c>, records every call, and can be
/// told to fail (<see cref="Behavior"/>), to report unhealthy, or be killed outright.
/// </summary>
public sealed class FakeDecodeNode : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, ConnectionContext> connections = new();
    private int running;

    private FakeDecodeNode(WebApplication app, FakeScript script)
    {
        this.app = app;
        Script = script;
    }

    public FakeScript Script { get; }
    public string Address { get; private set; } = "";
    public FakeDecodeBehavior Behavior { get; set; } = new();
    /// <summary>When false, <c>/healthz</c> answers 503 (as a node still loading).</summary>
    public bool Healthy { get; set; } = true;
    /// <summary>Overrides what <c>/load</c> reports (running, waiting, kv_usage); null reports the calls in flight.</summary>
    public (int Running, int Waiting, double KvUsage)? ReportedLoad { get; set; }
    public ConcurrentQueue<ReceivedCall> Calls { get; } = new();
    public int Running => Volatile.Read(ref running);
    public bool Killed { get; private set; }

    /// <summary>A call as received; <paramref name="Failed"/>: the node failed it by <see cref="FakeDecodeBehavior.Failure"/>.</summary>
    public sealed record ReceivedCall(GenerateRequest Request, string? NodeToken, bool Failed);

    public static async Task<FakeDecodeNode> StartAsync(FakeScript script)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        FakeDecodeNode? node = null;
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l =>
        {
            l.Protocols = HttpProtocols.Http2;
            // Tracked so that a kill can cut them the way a dying process does.
            l.Use(next => async connection =>
            {
                node!.connections[connection.ConnectionId] = connection;
                try
                {
                    await next(connection);
                }
                finally
                {
                    node!.connections.TryRemove(connection.ConnectionId, out _);
                }
            });
        }));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(_ => node!);
        var app = builder.Build();
        node = new FakeDecodeNode(app, script);
        app.MapGrpcService<FakeDecodeService>();
        app.MapGet("/healthz", () => node.Healthy ? Results.Ok("ok") : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        app.MapGet("/load", () =>
        {
            var (running, waiting, kv) = node.ReportedLoad ?? (node.Running, 0, 0.0);
            return Results.Json(new { running, waiting, kv_usage = kv });
        });
        await app.StartAsync();
        node.Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()
            .Replace("[::1]", "127.0.0.1", StringComparison.Ordinal);
        return node;
    }

    /// <summary>Stops the node at once: open streams are cut mid-token, the port refuses connections.</summary>
    public async Task KillAsync()
    {
        if (Killed) return;
        Killed = true;
        foreach (var connection in connections.Values) connection.Abort(new ConnectionAbortedException("killed"));
        await app.StopAsync(new CancellationToken(canceled: true));
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        await app.DisposeAsync();
    }

    internal void Enter() => Interlocked.Increment(ref running);
    internal void Leave() => Interlocked.Decrement(ref running);

    private sealed class FakeDecodeService(FakeDecodeNode node) : DecodeService.DecodeServiceBase
    {
        public override async Task Generate(GenerateRequest request, IServerStreamWriter<GenerateEvent> responseStream,
            ServerCallContext context)
        {
            var behavior = node.Behavior;
            var failure = behavior.Failure is { } f && f.Takes(request) ? f : null;
            node.Calls.Enqueue(new ReceivedCall(request, context.RequestHeaders.GetValue("x-pdserve-token"), failure is not null));
            if (behavior.Exhausted) throw new RpcException(new Status(StatusCode.ResourceExhausted, "KV budget full"));
            if (failure is { AfterTokens: 0 }) await FailAsync(failure, context);
            node.Enter();
            try
            {
                await StreamAsync(request, responseStream, behavior, failure, context);
            }
            finally
            {
                node.Leave();
            }
        }

        private async Task FailAsync(FakeFailure failure, ServerCallContext context)
        {
            if (failure.Trigger is { } trigger) await trigger.Task.WaitAsync(context.CancellationToken);
            if (!failure.CutConnection) throw failure.Exception();
            var connection = node.connections[context.GetHttpContext().Connection.Id];
            connection.Abort(new ConnectionAbortedException("cut by the test"));
            // The call ends with the connection; the status below never reaches the gateway.
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }

        private async Task StreamAsync(GenerateRequest request, IServerStreamWriter<GenerateEvent> stream,
            FakeDecodeBehavior behavior, FakeFailure? failure, ServerCallContext context)
        {
            var cancellationToken = context.CancellationToken;
            int n = Math.Max(1, request.N);
            var tokens = Enumerable.Range(0, n).Select(s => node.Script.TokensFor(request, s)).ToArray();
            var counts = new int[n];
            var done = new bool[n];
            int sent = 0;
            if (request.Sampling.HasPromptLogprobs && !behavior.OmitPromptLogprobs)
                await stream.WriteAsync(new GenerateEvent { PromptLogprobs = FakeScript.PromptScores(request) }, cancellationToken);
            for (int position = 0; done.Contains(false); position++)
            {
                for (int s = 0; s < n; s++)
                {
                    if (done[s]) continue;
                    if (behavior.FailAfterTokens is { } limit && sent >= limit)
                        throw new RpcException(new Status(StatusCode.Internal, "decode step failed"));
                    if (failure is not null && sent >= failure.AfterTokens) await FailAsync(failure, context);
                    if (behavior.TokenDelay > TimeSpan.Zero) await Task.Delay(behavior.TokenDelay, cancellationToken);
                    int token = tokens[s][position];
                    var tokenEvent = new TokenEvent { SampleIndex = s, TokenId = token, Logprob = FakeScript.Logprob(position) };
                    for (int k = 0; k < request.Sampling.TopLogprobs; k++)
                        tokenEvent.TopLogprobs.Add(new TokenLogprob { TokenId = 'a' + k, Logprob = FakeScript.Logprob(position) - k });
                    await stream.WriteAsync(new GenerateEvent { Token = tokenEvent }, cancellationToken);
                    sent++;
                    counts[s]++;
                    string? reason = token == node.Script.EosTokenId ? "stop" : counts[s] >= request.Sampling.MaxTokens ? "length" : null;
                    if (reason is null) continue;
                    done[s] = true;
                    await stream.WriteAsync(new GenerateEvent
                    {
                        Finished = new SampleFinished { SampleIndex = s, FinishReason = reason, CompletionTokens = counts[s] },
                    }, cancellationToken);
                }
            }
            await stream.WriteAsync(new GenerateEvent
            {
                Summary = new RequestSummary
                {
                    PromptTokens = request.PromptTokenIds.Count,
                    CompletionTokens = counts.Sum(),
                    KvBytesFull = 1000L * request.PromptTokenIds.Count,
                    KvBytesSent = string.IsNullOrEmpty(request.PrefillAddress) ? 0 : 200L * request.PromptTokenIds.Count,
                    // Reuse figures that tests can recompute from the prompt alone.
                    KvBytesReused = string.IsNullOrEmpty(request.PrefillAddress) ? 0 : 30L * request.PromptTokenIds.Count,
                    ReusedPromptTokens = string.IsNullOrEmpty(request.PrefillAddress) ? 0 : request.PromptTokenIds.Count / 2,
                    CachedPromptTokens = string.IsNullOrEmpty(request.PrefillAddress) ? 0 : request.PromptTokenIds.Count / 4,
                    ParkedPromptTokens = behavior.ParksPrompts ? request.PromptTokenIds.Count : 0,
                },
            }, cancellationToken);
        }
    }
}
