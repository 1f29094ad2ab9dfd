using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using PdServe.Engine.Generation;
using PdServe.Engine.Sampling;
using PdServe.KvTransfer;
using PdServe.KvTransfer.Protocol;
using PdServe.KvTransfer.Wire;
using PdServe.NodeHosting;
using static TorchSharp.torch;

namespace PdServe.Decode.Transfer;

/// <summary>
/// Pulls a prompt's KV from a prefill node: one gRPC stream per request over a channel per prefill address. Verifies
/// the sender's fingerprints and every chunk's checksum before anything reaches the engine. Every failure becomes an
/// <see cref="RpcException"/> with the status the decode contract promises and a message naming the prefill node.
/// </summary>
public sealed class PrefillClient(StageModel model, DecodeNodeOptions options, NodeMetrics metrics) : IDisposable
{
    private readonly ConcurrentDictionary<string, GrpcChannel> channels = new(StringComparer.OrdinalIgnoreCase);

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
        catch (RpcException error) when (!cancellation.IsCancellationRequested || error.StatusCode != StatusCode.Cancelled)
        {
            RpcException mapped = Map(error, address);
            metrics.TransferFailures.WithLabels(mapped.StatusCode.ToString()).Inc();
            throw mapped;
        }
        catch (KvTransferException error)
        {
            StatusCode code = error.Failure == KvTransferFailure.Incompatible ? StatusCode.FailedPrecondition : StatusCode.DataLoss;
            metrics.TransferFailures.WithLabels(code.ToString()).Inc();
            throw new RpcException(new Status(code, $"KV from prefill node {address} refused: {error.Message}"));
        }
    }

    private async Task<PulledPrompt> Pull(string address, GenerateRequest request, SamplingParams sampling, long started,
        CancellationToken cancellation)
    {
        var client = new PrefillService.PrefillServiceClient(Channel(address));
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
        var assembler = new KvAssembler(header, model.Loaded.Model.Plan.RunBlocks, MessageLimits.ChunkBytes(options.ChunkBytes));
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
            IReadOnlyList<ReceivedLayerKv> layers = assembler.Complete(trailer);
            if (trailer.FirstTokens.Count != request.N)
                throw new KvTransferException(KvTransferFailure.Protocol, $"{trailer.FirstTokens.Count} first tokens for {request.N} samples");
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

    private static RpcException Map(RpcException error, string address) => error.StatusCode switch
    {
        StatusCode.DeadlineExceeded => new RpcException(new Status(StatusCode.DeadlineExceeded,
            $"prefill node {address} did not deliver the KV in time: {error.Status.Detail}")),
        StatusCode.FailedPrecondition => new RpcException(new Status(StatusCode.FailedPrecondition,
            $"prefill node {address} is incompatible: {error.Status.Detail}")),
        StatusCode.ResourceExhausted or StatusCode.InvalidArgument => new RpcException(new Status(error.StatusCode,
            $"prefill node {address}: {error.Status.Detail}")),
        _ => new RpcException(new Status(StatusCode.Unavailable,
            $"prefill node {address} failed ({error.StatusCode}): {error.Status.Detail}")),
    };

    private GrpcChannel Channel(string address)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"prefill_address must be http://host:port, got '{address}'"));
        return channels.GetOrAdd(address, _ => GrpcChannel.ForAddress(uri, new GrpcChannelOptions
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
        }));
    }

    public void Dispose()
    {
        foreach (GrpcChannel channel in channels.Values) channel.Dispose();
    }
}
