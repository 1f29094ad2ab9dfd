using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using PdServe.Engine.Generation;
using PdServe.Engine.Sampling;
using PdServe.KvTransfer;
using PdServe.Contracts;
using PdServe.KvTransfer.Wire;
using PdServe.NodeHosting;
using static TorchSharp.torch;

namespace PdServe.Decode.Transfer;

/// <summary>
/// Pulls a prompt's KV from a prefill node: one gRPC stream per request over a channel per prefill address (the
/// caller has checked the address is trusted). Verifies the sender's fingerprints, the stream's structure and every
/// chunk's checksum before anything reaches the engine. Every failure becomes an <see cref="RpcException"/> with the
/// status the decode contract promises and the <see cref="NodeFault"/> side from this node's view: the prefill
/// node's verdict that the request is at fault stays the request's (without the prefill node's address); everything
/// else the prefill node or the way to it did is the peer's, its message naming the prefill node.
/// </summary>
public sealed class PrefillClient(StageModel model, DecodeNodeOptions options, NodeMetrics metrics) : IDisposable
{
    /// <summary>Channels kept open at once; a DNS entry of many pods cannot make the node hold more.</summary>
    public const int MaxChannels = 64;

    private readonly PrefillChannels channels = new(MaxChannels, options.TransferTimeout, CreateChannel);

    public async Task<PulledPrompt> PullAsync(GenerateRequest request, SamplingParams sampling, CancellationToken cancellation)
    {
        string address = request.PrefillAddress;
        long started = Stopwatch.GetTimestamp();
        try
        {
            PulledPrompt pulled = await Pull(address, request, sampling, started, cancellation);
            metrics.CountTransfer(pulled.Trailer.BytesFull, pulled.Trailer.BytesSent);
            metrics.TransferSeconds.Observe(pulled.TransferSeconds);
            return pulled;
        }
        catch (RpcException error) when (!cancellation.IsCancellationRequested)
        {
            RpcException mapped = Map(error, address);
            metrics.TransferFailures.WithLabels(mapped.StatusCode.ToString()).Inc();
            throw mapped;
        }
        catch (KvTransferException error) when (!cancellation.IsCancellationRequested)
        {
            StatusCode code = error.Failure == KvTransferFailure.Incompatible ? StatusCode.FailedPrecondition : StatusCode.DataLoss;
            metrics.TransferFailures.WithLabels(code.ToString()).Inc();
            throw NodeFault.Error(code, $"KV from prefill node {address} refused: {error.Message}", FaultSide.Peer);
        }
    }

    private async Task<PulledPrompt> Pull(string address, GenerateRequest request, SamplingParams sampling, long started,
        CancellationToken cancellation)
    {
        var client = new PrefillService.PrefillServiceClient(channels.For(new Uri(address)));
        var prefillRequest = new PrefillRequest
        {
            RequestId = request.RequestId,
            Sampling = request.Sampling?.Clone() ?? new SamplingOptions(),
            N = request.N,
            ModelFingerprint = model.ModelFingerprint,
            PlanFingerprint = model.PlanFingerprint,
            MaxChunkBytes = options.ChunkBytes,
        };
        prefillRequest.PromptTokenIds.AddRange(request.PromptTokenIds);
        prefillRequest.Layers.AddRange(model.Loaded.Model.Plan.RunBlocks);
        if (sampling.Seed is { } seed) prefillRequest.Sampling.Seed = seed;

        Metadata? headers = options.Host.NodeToken is { } token ? new Metadata { { NodeToken.Header, token } } : null;
        using AsyncServerStreamingCall<PrefillEvent> call = client.Prefill(prefillRequest, headers,
            deadline: DateTime.UtcNow + options.TransferTimeout, cancellationToken: cancellation);
        IAsyncStreamReader<PrefillEvent> stream = call.ResponseStream;
        if (!await stream.MoveNext(cancellation) || stream.Current.Header is not { } header)
            throw new RpcException(new Status(StatusCode.Unavailable, "the stream ended before the KV header"));
        CheckCompatible(header);
        var assembler = new KvAssembler(header, model.Loaded.Model.Plan.RunBlocks, MessageLimits.ChunkBytes(options.ChunkBytes),
            expectedPromptTokens: request.PromptTokenIds.Count);
        while (await stream.MoveNext(cancellation))
        {
            PrefillEvent item = stream.Current;
            if (item.Chunk is { } chunk)
            {
                assembler.Accept(chunk);
                continue;
            }
            if (item.Trailer is not { } trailer)
                throw new KvTransferException(KvTransferFailure.Protocol, "a second header arrived");
            CheckFirstTokens(trailer, request.N);
            IReadOnlyList<ReceivedLayerKv> layers = assembler.Complete(trailer);
            // Read on to the status: the prefill node's call ends as it succeeded, not cut off by this one's disposal.
            if (await stream.MoveNext(cancellation))
                throw new KvTransferException(KvTransferFailure.Protocol, "an event arrived after the trailer");
            return new PulledPrompt(ToPrompt(layers, trailer), trailer, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        throw new RpcException(new Status(StatusCode.Unavailable, "the stream ended before the KV trailer"));
    }

    private void CheckCompatible(KvHeader header)
    {
        if (!string.Equals(header.ModelFingerprint, model.ModelFingerprint, StringComparison.OrdinalIgnoreCase))
            throw new KvTransferException(KvTransferFailure.Incompatible, "weights differ from this decode node's");
        if (!string.Equals(header.PlanFingerprint, model.PlanFingerprint, StringComparison.OrdinalIgnoreCase))
            throw new KvTransferException(KvTransferFailure.Incompatible, "plan differs from this decode node's");
        var config = model.Loaded.Model.Config;
        if (header.KvHeads != config.NumKvHeads || header.HeadDim != config.HeadDim)
            throw new KvTransferException(KvTransferFailure.Incompatible,
                $"KV shape [{header.KvHeads} heads × {header.HeadDim}] differs from this model's [{config.NumKvHeads} × {config.HeadDim}]");
    }

    /// <summary>One first token per sample, each a token of this model: the engine must never see the sender's mistakes.</summary>
    private void CheckFirstTokens(KvTrailer trailer, int samples)
    {
        int vocabSize = model.Loaded.Model.Config.VocabSize;
        var indices = trailer.FirstTokens.Select(t => t.SampleIndex).Order().ToArray();
        if (!indices.SequenceEqual(Enumerable.Range(0, samples)))
            throw new KvTransferException(KvTransferFailure.Protocol,
                $"first tokens for samples [{string.Join(',', indices)}] of a request for {samples}");
        foreach (FirstToken token in trailer.FirstTokens)
        {
            if (token.TokenId < 0 || token.TokenId >= vocabSize || token.TopLogprobs.Any(t => t.TokenId < 0 || t.TokenId >= vocabSize))
                throw new KvTransferException(KvTransferFailure.Protocol, $"sample {token.SampleIndex}'s first token is outside the vocabulary [0, {vocabSize})");
        }
    }

    private static PrefilledPrompt ToPrompt(IReadOnlyList<ReceivedLayerKv> layers, KvTrailer trailer)
    {
        var blocks = new Dictionary<int, (Tensor, Tensor)>();
        try
        {
            foreach (ReceivedLayerKv layer in layers)
            {
                long[] shape = [layer.Shape.KvHeads, layer.Shape.Positions, layer.Shape.HeadDim];
                blocks[layer.Layer] = (tensor(layer.Keys, shape), tensor(layer.Values, shape));
            }
        }
        catch
        {
            foreach ((Tensor keys, Tensor values) in blocks.Values)
            {
                keys.Dispose();
                values.Dispose();
            }
            throw;
        }
        SampledToken[] first = trailer.FirstTokens.OrderBy(t => t.SampleIndex).Select(t => new SampledToken(t.TokenId, t.Logprob,
            t.TopLogprobs.Select(a => new Engine.Sampling.TokenLogprob(a.TokenId, a.Logprob)).ToArray())).ToArray();
        return new PrefilledPrompt(blocks, first);
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
