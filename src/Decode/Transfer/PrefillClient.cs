using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using PdServe.Contracts;
using PdServe.Decode.Conversations;
using PdServe.Engine.Sampling;
using PdServe.KvTransfer;
using PdServe.KvTransfer.Connector;
using PdServe.KvTransfer.Wire;
using PdServe.NodeHosting;
using PdServe.NodeHosting.Mapping;
using PdServe.Telemetry;

namespace PdServe.Decode.Transfer;

/// <summary>
/// Pulls a prompt's KV from a prefill node: one gRPC stream per request over a channel per prefill address (the
/// caller has checked the address is trusted). Verifies the sender's fingerprints, the stream's structure and every
/// chunk's checksum before anything reaches the engine. Every failure becomes an <see cref="RpcException"/> with the
/// status the decode contract promises and the <see cref="NodeFault"/> side from this node's view: the prefill
/// node's verdict that the request is at fault stays the request's (without the prefill node's address); everything
/// else the prefill node or the way to it did is the peer's, its message naming the prefill node.
/// </summary>
public sealed class PrefillClient : IDisposable
{
    /// <summary>Channels kept open at once; a DNS entry of many pods cannot make the node hold more.</summary>
    public const int MaxChannels = 64;

    private readonly StageModel model;
    private readonly PrefillPullSettings settings;
    private readonly IKvConnector connector;
    private readonly NodeMetrics metrics;
    private readonly PrefillChannels channels;

    public PrefillClient(StageModel model, PrefillPullSettings settings, IKvConnector connector, NodeMetrics metrics)
    {
        this.model = model;
        this.settings = settings;
        this.connector = connector;
        this.metrics = metrics;
        channels = new PrefillChannels(MaxChannels, settings.TransferTimeout, CreateChannel);
    }

    /// <summary>
    /// The KV of <paramref name="request"/>'s prompt and the first token of each of its <paramref name="samples"/>, drawn
    /// with <paramref name="sampling"/>. With <paramref name="reuse"/>, only the positions after the parked conversation's
    /// tokens are asked for, and the prompt returned is merged with the parked ones.
    /// </summary>
    public async Task<PulledPrompt> PullAsync(GenerateRequest request, SamplingParams sampling, int samples, ConversationReuse? reuse,
        CancellationToken cancellation)
    {
        string address = request.PrefillAddress;
        long started = Stopwatch.GetTimestamp();
        using Activity? span = Spans.Decode.StartActivity("kv pull")
            ?.SetTag(SpanAttributes.RequestId, request.RequestId).SetTag(SpanAttributes.PrefillNode, address)
            .SetTag(SpanAttributes.PromptTokens, request.PromptTokenIds.Count);
        try
        {
            PulledPrompt pulled = await Pull(address, request, sampling, samples, reuse, started, cancellation);
            metrics.CountTransfer(pulled.Trailer.BytesFull, pulled.Trailer.BytesSent, pulled.Trailer.BytesReused);
            metrics.TransferSeconds.Observe(pulled.TransferSeconds);
            span?.SetTag(SpanAttributes.KvBytesFull, pulled.Trailer.BytesFull)
                .SetTag(SpanAttributes.KvBytesPrunedFloat32, pulled.Trailer.BytesPrunedFloat32)
                .SetTag(SpanAttributes.KvBytesSent, pulled.Trailer.BytesSent).SetTag(SpanAttributes.KvBytesReused, pulled.Trailer.BytesReused);
            return pulled;
        }
        catch (RpcException error) when (!cancellation.IsCancellationRequested)
        {
            RpcException mapped = Map(error, address);
            span?.SetStatus(ActivityStatusCode.Error, mapped.Status.Detail);
            metrics.TransferFailures.WithLabels(mapped.StatusCode.ToString()).Inc();
            throw mapped;
        }
        catch (KvTransferException error) when (!cancellation.IsCancellationRequested)
        {
            span?.SetStatus(ActivityStatusCode.Error, error.Message);
            StatusCode code = error.Failure == KvTransferFailure.Incompatible ? StatusCode.FailedPrecondition : StatusCode.DataLoss;
            metrics.TransferFailures.WithLabels(code.ToString()).Inc();
            throw NodeFault.Error(code, $"KV from prefill node {address} refused: {error.Message}", FaultSide.Peer);
        }
    }

    private async Task<PulledPrompt> Pull(string address, GenerateRequest request, SamplingParams sampling, int samples,
        ConversationReuse? reuse, long started, CancellationToken cancellation)
    {
        var client = new PrefillService.PrefillServiceClient(channels.For(new Uri(address)));
        IReadOnlyList<int> layers = model.Loaded.Model.Plan.RunBlocks;
        var prefillRequest = new PrefillRequest
        {
            RequestId = request.RequestId,
            Sampling = SamplingMapping.ToWire(sampling),
            N = samples,
            ModelFingerprint = model.ModelFingerprint,
            PlanFingerprint = model.PlanFingerprint,
            MaxChunkBytes = settings.ChunkBytes,
            ReusedPrefixTokens = reuse?.ReusedPrefixTokens ?? 0,
        };
        prefillRequest.PromptTokenIds.AddRange(request.PromptTokenIds);
        prefillRequest.Layers.AddRange(layers);

        Metadata? headers = settings.NodeToken is { } token ? new Metadata { { NodeToken.Header, token } } : null;
        using AsyncServerStreamingCall<PrefillEvent> call = client.Prefill(prefillRequest, headers,
            deadline: DateTime.UtcNow + settings.TransferTimeout, cancellationToken: cancellation);
        IAsyncStreamReader<PrefillEvent> stream = call.ResponseStream;
        if (!await stream.MoveNext(cancellation) || stream.Current.Header is not { } header)
            throw new RpcException(new Status(StatusCode.Unavailable, "the stream ended before the KV header"));
        var config = model.Loaded.Model.Config;
        KvReceiver receiver = connector.StartReceiving(header, new ExpectedKv(model.ModelFingerprint, model.PlanFingerprint,
            config.NumKvHeads, config.HeadDim, layers, request.PromptTokenIds.Count, samples, config.VocabSize,
            MessageLimits.ChunkBytes(settings.ChunkBytes), reuse?.ReusedPrefixTokens ?? 0));
        while (await stream.MoveNext(cancellation))
        {
            PrefillEvent item = stream.Current;
            if (item.Chunk is { } chunk)
            {
                receiver.Accept(chunk);
                continue;
            }
            if (item.Trailer is not { } trailer)
                throw new KvTransferException(KvTransferFailure.Protocol, "a second header arrived");
            ReceivedKv received = receiver.Complete(trailer);
            IReadOnlyList<PromptTokenScore>? promptScores = PromptScoresOf(trailer, sampling, request.PromptTokenIds, config.VocabSize);
            // Read on to the status: the prefill node's call ends as it succeeded, not cut off by this one's disposal.
            if (await stream.MoveNext(cancellation))
                throw new KvTransferException(KvTransferFailure.Protocol, "an event arrived after the trailer");
            return new PulledPrompt(KvReceiveAdapter.ToPrompt(received, promptScores, reuse), trailer, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        throw new RpcException(new Status(StatusCode.Unavailable, "the stream ended before the KV trailer"));
    }

    /// <summary>The trailer's prompt scores, checked, when the request asked for them; scores nobody asked for are ignored.</summary>
    private static IReadOnlyList<PromptTokenScore>? PromptScoresOf(KvTrailer trailer, SamplingParams sampling, IReadOnlyList<int> prompt, int vocabSize)
    {
        if (sampling.PromptLogprobs is null) return null;
        try
        {
            return TokenMapping.ToEngine(trailer.PromptLogprobs, prompt, vocabSize);
        }
        catch (ArgumentException error)
        {
            throw new KvTransferException(KvTransferFailure.Protocol, $"the trailer's prompt logprobs do not fit the prompt: {error.Message}");
        }
    }

    /// <summary>
    /// What the prefill node's status means here. Its own verdict that the request is at fault stays the request's,
    /// without the prefill node's address; a status it did not send (no trailer: the connection broke, the node died,
    /// the HTTP/2 layer gave up) is the prefill node being unreachable; everything else it reported is the peer's.
    /// </summary>
    private static RpcException Map(RpcException error, string address)
    {
        string detail = error.Status.Detail;
        FaultSide? side = error.Status.DebugException is null ? NodeFault.Of(error) : null;
        // The prefill node refusing this node's token blames the call's credentials: those are this pair's configuration.
        if (side == FaultSide.Request && error.StatusCode is not (StatusCode.Unauthenticated or StatusCode.PermissionDenied))
            return NodeFault.Error(StatusCode.InvalidArgument, detail, FaultSide.Request);
        (StatusCode code, string message) = (side, error.StatusCode) switch
        {
            (_, StatusCode.DeadlineExceeded) => (StatusCode.DeadlineExceeded, $"prefill node {address} did not deliver the KV in time: {detail}"),
            (_, StatusCode.ResourceExhausted) => (StatusCode.ResourceExhausted, $"prefill node {address} is out of room: {detail}"),
            (not null, StatusCode.FailedPrecondition) => (StatusCode.FailedPrecondition, $"prefill node {address} is incompatible: {detail}"),
            // Another cluster token: a configuration mismatch between the two nodes, like other weights.
            (_, StatusCode.Unauthenticated or StatusCode.PermissionDenied) => (StatusCode.FailedPrecondition,
                $"prefill node {address} refused this decode node's node token: {detail}"),
            (not null, StatusCode.DataLoss) => (StatusCode.DataLoss, $"prefill node {address} lost the KV: {detail}"),
            (not null, StatusCode.Internal) => (StatusCode.Internal, $"prefill node {address} failed: {detail}"),
            _ => (StatusCode.Unavailable, $"prefill node {address} is unavailable ({error.StatusCode}): {detail}"),
        };
        return NodeFault.Error(code, message, FaultSide.Peer);
    }

    private static GrpcChannel CreateChannel(Uri address) => GrpcChannel.ForAddress(address, new GrpcChannelOptions
    {
        MaxReceiveMessageSize = MessageLimits.MaxMessageBytes,
        MaxSendMessageSize = MessageLimits.MaxMessageBytes,
        HttpHandler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // A prefill node that vanished without closing its connection is noticed within seconds.
            KeepAlivePingDelay = TimeSpan.FromSeconds(10),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        },
    });

    public void Dispose() => channels.Dispose();
}
