using PdServe.Decode.Admission;
using System.Diagnostics;
using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PdServe.Contracts;
using PdServe.Decode.Conversations;
using PdServe.Decode.Transfer;
using PdServe.Engine.Generation;
using PdServe.Engine.Sampling;
using PdServe.NodeHosting;
using PdServe.NodeHosting.Mapping;
using PdServe.Telemetry;

namespace PdServe.Decode;

/// <summary>
/// DecodeService.Generate: admits the request against the KV budget, gets the prompt's KV (pulled from the named
/// prefill node — only the part after a parked conversation the prompt extends — or prefilled here in unified mode),
/// decodes with the engine's continuous batching and streams the tokens of all n samples, then a summary; a request
/// whose samples all finished parks its prompt's KV for the conversation's next turn. The reservation is returned however the call ends. Every status it ends
/// a call with carries the <see cref="NodeFault"/> trailer: the request, this node, or its prefill node (peer).
/// Once the host is stopping, new calls are refused (UNAVAILABLE, self) while those in flight finish.
/// </summary>
public sealed class DecodeGrpcService : DecodeService.DecodeServiceBase
{
    private readonly DecodeNode node;
    private readonly NodeCallFrame frame;

    public DecodeGrpcService(DecodeNode node, IHostApplicationLifetime lifetime, ILogger<DecodeGrpcService> logger)
    {
        this.node = node;
        frame = new NodeCallFrame(Stage.Decode, node, lifetime, logger);
    }

    public override Task Generate(GenerateRequest request, IServerStreamWriter<GenerateEvent> stream, ServerCallContext context) =>
        frame.RunAsync(context, request.RequestId, () => Serve(request, stream, context), translate: error => error is ObjectDisposedException
            ? NodeFault.Error(StatusCode.Unavailable, "the decode node is shutting down", FaultSide.Self)
            : null);

    private async Task Serve(GenerateRequest request, IServerStreamWriter<GenerateEvent> stream, ServerCallContext context)
    {
        frame.EnsureServing();
        CancellationToken cancellation = context.CancellationToken;
        InferenceEngine engine = node.Engine;
        RequestLimits limits = node.Limits;
        int samples = PromptValidation.Validate(request.PromptTokenIds, request.N, limits);
        SamplingParams sampling = SamplingMapping.ToEngine(request.Sampling, limits.VocabSize, SamplingMapping.SharedSeed(request.Sampling));
        bool pulls = request.PrefillAddress.Length > 0;
        // Checked before any connection is made: a request must not make this node dial an address it names.
        if (pulls && !await node.TrustedPrefillNodes.TrustsAsync(request.PrefillAddress, cancellation))
            throw NodeFault.Error(StatusCode.FailedPrecondition,
                "the prefill node named by the request is not one this decode node trusts (--prefill-nodes)", FaultSide.Self);

        long bytes = node.ReservationBytes(request.PromptTokenIds.Count, samples, sampling.MaxTokens, pulls);
        using KvBudget.Reservation reservation = node.Budget.TryReserve(bytes)
            ?? throw NodeFault.Error(StatusCode.ResourceExhausted,
                $"the request needs {bytes} bytes of KV; {node.Budget.ReservedBytes} of the node's {node.Budget.BudgetBytes} are in use", FaultSide.Self);
        node.Metrics.PromptTokens.Inc(request.PromptTokenIds.Count);
        var generation = new GenerationRequest(request.PromptTokenIds.ToArray(), sampling, samples);
        node.MarkWaiting(1);
        bool streaming = false;
        ParkedConversation? parkingCandidate = null;
        try
        {
            PulledPrompt? pulled = null;
            int reusedTokens = 0;
            long started = Stopwatch.GetTimestamp();
            Activity.Current?.SetTag(SpanAttributes.RequestId, request.RequestId);
            ChannelReader<GeneratedToken> tokens;
            if (pulls)
            {
                using (ConversationReuse? reuse = node.FindReusableConversation(request.PromptTokenIds))
                {
                    pulled = await node.PrefillClient.PullAsync(request, sampling, samples, reuse, cancellation);
                    reusedTokens = reuse?.ReusedPrefixTokens ?? 0;
                }
                if (reusedTokens > 0)
                {
                    node.ConversationMetrics.HitTokens.Inc(reusedTokens);
                    Activity.Current?.SetTag(SpanAttributes.ReusedPromptTokens, reusedTokens);
                }
                parkingCandidate = node.ParkingCandidate(request.PromptTokenIds, pulled.Prompt);
                tokens = engine.SubmitPrefilled(generation, pulled.Prompt, cancellation);
            }
            else
            {
                tokens = engine.Submit(generation, cancellation);
            }

            var completion = new int[samples];
            // From the engine taking the request (a local prefill included, in unified mode) to the last token.
            using Activity? decoding = Spans.Decode.StartActivity("decode")
                ?.SetTag(SpanAttributes.RequestId, request.RequestId).SetTag(SpanAttributes.Samples, samples)
                .SetTag(SpanAttributes.PromptTokens, request.PromptTokenIds.Count);
            await foreach (GeneratedToken token in tokens.ReadAllAsync(cancellation))
            {
                if (!streaming)
                {
                    decoding?.AddEvent(new ActivityEvent(SpanAttributes.FirstTokenEvent));
                    streaming = true;
                    node.MarkWaiting(-1);
                    node.MarkRunning(1);
                    // Every sample's first token carries the same scores; the gateway wants them once, before any token.
                    if (token.PromptScores is { } scores)
                    {
                        var promptLogprobs = new PromptLogprobs();
                        promptLogprobs.Tokens.AddRange(TokenMapping.ToWire(scores));
                        await stream.WriteAsync(new GenerateEvent { PromptLogprobs = promptLogprobs }, cancellation);
                    }
                }
                completion[token.SampleIndex]++;
                await stream.WriteAsync(new GenerateEvent { Token = TokenMapping.ToEvent(token) }, cancellation);
                if (token.Finish is { } finish)
                {
                    await stream.WriteAsync(new GenerateEvent
                    {
                        Finished = TokenMapping.ToFinished(token.SampleIndex, finish, completion[token.SampleIndex]),
                    }, cancellation);
                }
            }
            node.Metrics.GeneratedTokens.Inc(completion.Sum());
            // Every sample finished: the prompt's KV may serve the conversation's next turn.
            int parkedTokens = parkingCandidate is not null && node.Conversations.Park(parkingCandidate) ? request.PromptTokenIds.Count : 0;
            parkingCandidate = null;
            decoding?.SetTag(SpanAttributes.CompletionTokens, completion.Sum());
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
                    KvBytesReused = pulled?.Trailer.BytesReused ?? 0,
                    ReusedPromptTokens = reusedTokens,
                    CachedPromptTokens = pulled?.Trailer.CachedPromptTokens ?? 0,
                    ParkedPromptTokens = parkedTokens,
                },
            }, cancellation);
        }
        finally
        {
            parkingCandidate?.Dispose();
            if (streaming) node.MarkRunning(-1);
            else node.MarkWaiting(-1);
        }
    }
}
