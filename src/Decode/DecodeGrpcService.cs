using System.Diagnostics;
using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PdServe.Decode.Transfer;
using PdServe.Engine.Generation;
using PdServe.Engine.Sampling;
using PdServe.KvTransfer;
using PdServe.Contracts;
using PdServe.NodeHosting;
using ProtocolTokenLogprob = PdServe.Contracts.TokenLogprob;

namespace PdServe.Decode;

/// <summary>
/// DecodeService.Generate: admits the request against the KV budget, gets the prompt's KV (pulled from the named
/// prefill node, or prefilled here in unified mode), decodes with the engine's continuous batching and streams the
/// tokens of all n samples, then a summary. The reservation is returned however the call ends. Every status it ends
/// a call with carries the <see cref="NodeFault"/> trailer: the request, this node, or its prefill node (peer).
/// Once the host is stopping, new calls are refused (UNAVAILABLE, self) while those in flight finish.
/// </summary>
public sealed class DecodeGrpcService(DecodeNode node, IHostApplicationLifetime lifetime, ILogger<DecodeGrpcService> logger)
    : DecodeService.DecodeServiceBase
{
    public override async Task Generate(GenerateRequest request, IServerStreamWriter<GenerateEvent> stream, ServerCallContext context)
    {
        try
        {
            await Serve(request, stream, context);
            node.Metrics.Requests.WithLabels("ok").Inc();
        }
        catch (Exception) when (context.CancellationToken.IsCancellationRequested)
        {
            node.Metrics.Requests.WithLabels("cancelled").Inc();
            throw NodeFault.Error(StatusCode.Cancelled, "the caller went away", FaultSide.Request);
        }
        catch (Exception error)
        {
            RpcException status = ToStatus(error, request.RequestId);
            node.Metrics.Requests.WithLabels(status.StatusCode.ToString()).Inc();
            throw status;
        }
    }

    /// <summary>The status a failure ends the call with; anything unforeseen is this node's INTERNAL error, logged.</summary>
    private RpcException ToStatus(Exception error, string requestId)
    {
        switch (error)
        {
            case RpcException status when NodeFault.Of(status) is not null:
                return status;
            case RequestFaultException or ArgumentException:
                return Error(StatusCode.InvalidArgument, error.Message, FaultSide.Request);
            case ObjectDisposedException:
                return Error(StatusCode.Unavailable, "the decode node is shutting down", FaultSide.Self);
            default:
                logger.LogError(error, "Generation of request {RequestId} failed", requestId);
                return Error(StatusCode.Internal, $"decoding failed: {error.GetType().Name}", FaultSide.Self);
        }
    }

    private async Task Serve(GenerateRequest request, IServerStreamWriter<GenerateEvent> stream, ServerCallContext context)
    {
        if (!node.Readiness.IsReady) throw Error(StatusCode.Unavailable, "the decode node's model is not loaded yet", FaultSide.Self);
        if (lifetime.ApplicationStopping.IsCancellationRequested)
            throw Error(StatusCode.Unavailable, "the decode node is shutting down", FaultSide.Self);
        CancellationToken cancellation = context.CancellationToken;
        InferenceEngine engine = node.Engine;
        var config = node.Model.Loaded.Model.Config;
        int samples = request.N == 0 ? 1 : request.N;
        SamplingParams sampling = Validate(request, samples, engine, config.VocabSize);
        bool pulls = request.PrefillAddress.Length > 0;
        // Checked before any connection is made: a request must not make this node dial an address it names.
        if (pulls && !await node.TrustedPrefillNodes.TrustsAsync(request.PrefillAddress, cancellation))
            throw Error(StatusCode.FailedPrecondition,
                "the prefill node named by the request is not one this decode node trusts (--prefill-nodes)", FaultSide.Self);

        long bytes = node.ReservationBytes(request.PromptTokenIds.Count, samples, sampling.MaxTokens, pulls);
        using KvBudget.Reservation reservation = node.Budget.TryReserve(bytes)
            ?? throw Error(StatusCode.ResourceExhausted,
                $"the request needs {bytes} bytes of KV; {node.Budget.ReservedBytes} of the node's {node.Budget.BudgetBytes} are in use", FaultSide.Self);
        node.Metrics.PromptTokens.Inc(request.PromptTokenIds.Count);
        var generation = new GenerationRequest(request.PromptTokenIds.ToArray(), sampling, samples);
        node.MarkWaiting(1);
        bool streaming = false;
        try
        {
            PulledPrompt? pulled = null;
            long started = Stopwatch.GetTimestamp();
            ChannelReader<GeneratedToken> tokens;
            if (pulls)
            {
                pulled = await node.PrefillClient.PullAsync(request, sampling, cancellation);
                tokens = engine.SubmitPrefilled(generation, pulled.Prompt, cancellation);
            }
            else
            {
                tokens = engine.Submit(generation, cancellation);
            }

            var completion = new int[samples];
            await foreach (GeneratedToken token in tokens.ReadAllAsync(cancellation))
            {
                if (!streaming)
                {
                    streaming = true;
                    node.MarkWaiting(-1);
                    node.MarkRunning(1);
                }
                completion[token.SampleIndex]++;
                await stream.WriteAsync(new GenerateEvent { Token = ToEvent(token) }, cancellation);
                if (token.Finish is { } finish)
                {
                    await stream.WriteAsync(new GenerateEvent
                    {
                        Finished = new SampleFinished
                        {
                            SampleIndex = token.SampleIndex,
                            FinishReason = finish == FinishReason.Stop ? "stop" : "length",
                            CompletionTokens = completion[token.SampleIndex],
                        },
                    }, cancellation);
                }
            }
            node.Metrics.GeneratedTokens.Inc(completion.Sum());
            await stream.WriteAsync(new GenerateEvent
            {
                Summary = new RequestSummary
                {
                    PromptTokens = request.PromptTokenIds.Count,
                    CompletionTokens = completion.Sum(),
                    KvBytesFull = pulled?.Trailer.BytesFull ?? 0,
                    KvBytesSent = pulled?.Trailer.BytesSent ?? 0,
                    PrefillSeconds = pulled?.Trailer.PrefillSeconds ?? Stopwatch.GetElapsedTime(started).TotalSeconds,
                    TransferSeconds = pulled?.TransferSeconds ?? 0,
                },
            }, cancellation);
        }
        finally
        {
            if (streaming) node.MarkRunning(-1);
            else node.MarkWaiting(-1);
        }
    }

    private SamplingParams Validate(GenerateRequest request, int samples, InferenceEngine engine, int vocabSize)
    {
        if (request.PromptTokenIds.Count == 0) throw Error(StatusCode.InvalidArgument, "the prompt has no tokens", FaultSide.Request);
        if (request.PromptTokenIds.Count >= engine.MaxContextTokens)
            throw Error(StatusCode.InvalidArgument, $"the prompt has {request.PromptTokenIds.Count} tokens; this node's context is {engine.MaxContextTokens}", FaultSide.Request);
        foreach (int id in request.PromptTokenIds)
        {
            if (id < 0 || id >= vocabSize) throw Error(StatusCode.InvalidArgument, $"prompt token id {id} is outside the vocabulary [0, {vocabSize})", FaultSide.Request);
        }
        if (samples < 1 || samples > engine.Options.MaxBatchSize)
            throw Error(StatusCode.InvalidArgument, $"n must be between 1 and {engine.Options.MaxBatchSize}, got {request.N}", FaultSide.Request);
        try
        {
            SamplingOptions options = request.Sampling ?? new SamplingOptions { MaxTokens = 16 };
            // Both nodes must draw from the same stream: a sampled request without a seed gets one here.
            ulong? seed = options.HasSeed ? options.Seed : options.Temperature > 0 ? (ulong)Random.Shared.NextInt64() : null;
            return SamplingOptionsMapping.ToEngine(options, vocabSize, seed);
        }
        catch (ArgumentException error)
        {
            throw Error(StatusCode.InvalidArgument, error.Message, FaultSide.Request);
        }
    }

    private static TokenEvent ToEvent(GeneratedToken token)
    {
        var result = new TokenEvent { SampleIndex = token.SampleIndex, TokenId = token.Token.TokenId, Logprob = token.Token.Logprob };
        result.TopLogprobs.AddRange(token.Token.TopLogprobs.Select(t => new ProtocolTokenLogprob { TokenId = t.TokenId, Logprob = t.Logprob }));
        return result;
    }

    private static RpcException Error(StatusCode code, string message, FaultSide side) => NodeFault.Error(code, message, side);
}
