using System.Diagnostics;
using System.Threading.Channels;
using Grpc.Core;
using PdServe.Decode.Transfer;
using PdServe.Engine.Generation;
using PdServe.Engine.Sampling;
using PdServe.KvTransfer.Protocol;
using PdServe.NodeHosting;
using ProtocolTokenLogprob = PdServe.KvTransfer.Protocol.TokenLogprob;

namespace PdServe.Decode;

/// <summary>
/// DecodeService.Generate: admits the request against the KV budget, gets the prompt's KV (pulled from the named
/// prefill node, or prefilled here in unified mode), decodes with the engine's continuous batching and streams the
/// tokens of all n samples, then a summary. The reservation is returned however the call ends.
/// </summary>
public sealed class DecodeGrpcService(DecodeNode node) : DecodeService.DecodeServiceBase
{
    public override async Task Generate(GenerateRequest request, IServerStreamWriter<GenerateEvent> stream, ServerCallContext context)
    {
        try
        {
            await Serve(request, stream, context);
            node.Metrics.Requests.WithLabels("ok").Inc();
        }
        catch (RpcException error)
        {
            node.Metrics.Requests.WithLabels(error.StatusCode.ToString()).Inc();
            throw;
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            node.Metrics.Requests.WithLabels("cancelled").Inc();
            throw new RpcException(new Status(StatusCode.Cancelled, "the caller went away"));
        }
    }

    private async Task Serve(GenerateRequest request, IServerStreamWriter<GenerateEvent> stream, ServerCallContext context)
    {
        if (!node.Readiness.IsReady) throw Error(StatusCode.Unavailable, "the decode node's model is not loaded yet");
        CancellationToken cancellation = context.CancellationToken;
        InferenceEngine engine = node.Engine;
        var config = node.Model.Loaded.Model.Config;
        int samples = request.N == 0 ? 1 : request.N;
        SamplingParams sampling = Validate(request, samples, engine, config.VocabSize);
        bool pulls = request.PrefillAddress.Length > 0;

        long bytes = node.ReservationBytes(request.PromptTokenIds.Count, samples, sampling.MaxTokens, pulls);
        using KvBudget.Reservation reservation = node.Budget.TryReserve(bytes)
            ?? throw Error(StatusCode.ResourceExhausted,
                $"the request needs {bytes} bytes of KV; {node.Budget.ReservedBytes} of the node's {node.Budget.BudgetBytes} are in use");
        node.Metrics.PromptTokens.Inc(request.PromptTokenIds.Count);
        var generation = new GenerationRequest(request.PromptTokenIds.ToArray(), sampling, samples);
        node.MarkWaiting(1);
        bool streaming = false;
        try
        {
            PulledPrompt? pulled = null;
            long started = Stopwatch.GetTimestamp();
            ChannelReader<GeneratedToken> tokens;
            try
            {
                if (pulls)
                {
                    pulled = await node.PrefillClient.PullAsync(request, sampling, cancellation);
                    tokens = engine.SubmitPrefilled(generation, pulled.Prompt, cancellation);
                }
                else
                {
                    tokens = engine.Submit(generation, cancellation);
                }
            }
            catch (ArgumentException error)
            {
                throw Error(StatusCode.InvalidArgument, error.Message);
            }

            var completion = new int[samples];
            await foreach (GeneratedToken token in ReadAll(tokens, cancellation))
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

    /// <summary>The engine's stream; an engine failure becomes INTERNAL, an engine that shut down UNAVAILABLE.</summary>
    private static async IAsyncEnumerable<GeneratedToken> ReadAll(ChannelReader<GeneratedToken> tokens,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        while (true)
        {
            try
            {
                if (!await tokens.WaitToReadAsync(cancellation)) yield break;
            }
            catch (ObjectDisposedException)
            {
                throw Error(StatusCode.Unavailable, "the decode node is shutting down");
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                throw Error(StatusCode.Internal, $"decoding failed: {error.Message}");
            }
            while (tokens.TryRead(out GeneratedToken? token)) yield return token;
        }
    }

    private SamplingParams Validate(GenerateRequest request, int samples, InferenceEngine engine, int vocabSize)
    {
        if (request.PromptTokenIds.Count == 0) throw Error(StatusCode.InvalidArgument, "the prompt has no tokens");
        if (request.PromptTokenIds.Count >= engine.MaxContextTokens)
            throw Error(StatusCode.InvalidArgument, $"the prompt has {request.PromptTokenIds.Count} tokens; this node's context is {engine.MaxContextTokens}");
        foreach (int id in request.PromptTokenIds)
        {
            if (id < 0 || id >= vocabSize) throw Error(StatusCode.InvalidArgument, $"prompt token id {id} is outside the vocabulary [0, {vocabSize})");
        }
        if (samples < 1 || samples > engine.Options.MaxBatchSize)
            throw Error(StatusCode.InvalidArgument, $"n must be between 1 and {engine.Options.MaxBatchSize}, got {request.N}");
        try
        {
            SamplingOptions options = request.Sampling ?? new SamplingOptions { MaxTokens = 16 };
            // Both nodes must draw from the same stream: a sampled request without a seed gets one here.
            ulong? seed = options.HasSeed ? options.Seed : options.Temperature > 0 ? (ulong)Random.Shared.NextInt64() : null;
            return SamplingOptionsMapping.ToEngine(options, vocabSize, seed);
        }
        catch (ArgumentException error)
        {
            throw Error(StatusCode.InvalidArgument, error.Message);
        }
    }

    private static TokenEvent ToEvent(GeneratedToken token)
    {
        var result = new TokenEvent { SampleIndex = token.SampleIndex, TokenId = token.Token.TokenId, Logprob = token.Token.Logprob };
        result.TopLogprobs.AddRange(token.Token.TopLogprobs.Select(t => new ProtocolTokenLogprob { TokenId = t.TokenId, Logprob = t.Logprob }));
        return result;
    }

    private static RpcException Error(StatusCode code, string message) => new(new Status(code, message));
}
