using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Grpc.Core;
using PdServe.Contracts;
using PdServe.Gateway.Metrics;
using PdServe.Gateway.Model;
using PdServe.Gateway.Routing;
using PdServe.Telemetry;
using Yarp.ReverseProxy.Model;

namespace PdServe.Gateway.Generation;

/// <summary>
/// Runs one request: per prompt, picks a prefill node P and a decode node D, calls D.Generate with P's address, and
/// hands the samples' text to <c>sink</c> as it is released. A call that fails before any of its output reached
/// <c>sink</c> (for a non-streaming request: before it completed) is retried once on other nodes, unless the request
/// itself caused it; any other failure ends the request with a <see cref="GenerationException"/>. Only the node a failure is
/// attributed to leaves its pool (<see cref="NodeCallFailure"/>); what the node said is logged, never sent to the client.
/// </summary>
public sealed class GenerationRunner(
    NodeSelector nodes,
    DecodeClients clients,
    NodeFailureReporter failures,
    GatewayMetrics metrics,
    ServedModel model,
    ConversationDirectory conversations,
    ILogger<GenerationRunner> logger)
{
    public async Task<GenerationUsage> RunAsync(string requestId, GenerationParameters parameters, HttpContext context,
        long startedTimestamp, Func<ChoiceDelta, ValueTask> sink)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var sinkLock = new SemaphoreSlim(1, 1);
        bool firstText = false;
        // Time to first token is a span of the request's own (the server span), from its arrival to the first token a
        // decode node sent (buffered or not), once per request.
        ActivityContext requestSpan = Activity.Current?.Context ?? default;
        DateTime arrived = DateTime.UtcNow - Stopwatch.GetElapsedTime(startedTimestamp);
        int firstTokenSeen = 0;
        void OnFirstToken()
        {
            if (Interlocked.Exchange(ref firstTokenSeen, 1) == 0)
                Spans.Gateway.StartActivity("time to first token", ActivityKind.Internal, requestSpan, startTime: arrived)?.Dispose();
        }
        async ValueTask Deliver(ChoiceDelta delta)
        {
            await sinkLock.WaitAsync(cancellation.Token);
            try
            {
                if (!firstText && !delta.FromPrompt && delta.Text.Length > 0)
                {
                    firstText = true;
                    metrics.TimeToFirstToken.Observe(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds);
                }
                await sink(delta);
            }
            finally
            {
                sinkLock.Release();
            }
        }

        var calls = parameters.Prompts
            .Select((prompt, index) => CancelOthersOnFailure(
                RunPromptAsync(requestId, $"{requestId}-{index}", index, prompt, parameters, context, Deliver, OnFirstToken, cancellation.Token), cancellation))
            .ToList();
        (int CompletionTokens, TransferUsage Kv)[] results;
        try
        {
            results = await Task.WhenAll(calls);
        }
        catch
        {
            // WhenAll reports the first failed task in list order, which may be a sibling cancelled by the real failure.
            var cause = calls.Select(c => c.Exception?.InnerException)
                .FirstOrDefault(e => e is not null and not OperationCanceledException and not RpcException { StatusCode: StatusCode.Cancelled });
            if (cause is not null) ExceptionDispatchInfo.Throw(cause);
            throw;
        }

        var usage = new GenerationUsage(parameters.Prompts.Sum(p => p.Count), results.Sum(r => r.CompletionTokens))
        {
            Kv = results.Aggregate(TransferUsage.None, (sum, r) => sum + r.Kv),
        };
        metrics.PromptTokens.Inc(usage.PromptTokens);
        metrics.GenerationTokens.Inc(usage.CompletionTokens);
        return usage;
    }

    private static async Task<T> CancelOthersOnFailure<T>(Task<T> call, CancellationTokenSource cancellation)
    {
        try
        {
            return await call;
        }
        catch
        {
            await cancellation.CancelAsync();
            throw;
        }
    }

    private async Task<(int CompletionTokens, TransferUsage Kv)> RunPromptAsync(string requestId, string callId, int promptIndex, IReadOnlyList<int> prompt,
        GenerationParameters parameters, HttpContext context, Func<ChoiceDelta, ValueTask> deliver, Action onFirstToken,
        CancellationToken cancellationToken)
    {
        var route = new PromptRoute(prompt);
        var avoidDecode = new List<DestinationState>();
        var avoidPrefill = new List<DestinationState>();
        GenerationException? failedAttempt = null;
        for (int attempt = 0; ; attempt++)
        {
            var samples = Enumerable.Range(0, parameters.N)
                .Select(s => new SampleAssembler(promptIndex * parameters.N + s, model.Tokenizer, parameters))
                .ToArray();
            bool delivered = false;
            List<ChoiceDelta>? buffered = parameters.Stream ? null : [];
            async ValueTask Emit(ChoiceDelta delta)
            {
                if (buffered is not null)
                {
                    buffered.Add(delta);
                    return;
                }
                delivered = true;
                await deliver(delta);
            }

            NodeChoice decode;
            NodeChoice? prefill;
            using (Activity? routeSpan = Spans.Gateway.StartActivity("route"))
            {
                decode = Pick(NodePools.Decode, context, avoidDecode, route, failedAttempt);
                prefill = nodes.HasNodes(NodePools.Prefill) ? Pick(NodePools.Prefill, context, avoidPrefill, route, failedAttempt) : null;
                routeSpan?.SetTag(SpanAttributes.DecodeNode, decode.Address).SetTag(SpanAttributes.PrefillNode, prefill?.Address);
            }
            using NodeChoice heldDecode = decode;
            using NodeChoice? heldPrefill = prefill;
            using Activity? call = Spans.Gateway.StartActivity("generate")
                ?.SetTag(SpanAttributes.RequestId, callId).SetTag(SpanAttributes.Attempt, attempt)
                .SetTag(SpanAttributes.DecodeNode, decode.Address).SetTag(SpanAttributes.PrefillNode, prefill?.Address)
                .SetTag(SpanAttributes.PromptTokens, prompt.Count).SetTag(SpanAttributes.Samples, parameters.N);
            try
            {
                var request = BuildRequest(callId, prompt, parameters, parameters.MaxTokens[promptIndex], prefill);
                RequestSummary? summary = await CallAsync(decode, request, prompt, samples, Emit, onFirstToken, cancellationToken);
                if (buffered is not null)
                {
                    foreach (var delta in buffered) await deliver(delta);
                }
                call?.SetTag(SpanAttributes.CompletionTokens, samples.Sum(s => s.TokenCount));
                if (summary is { ParkedPromptTokens: > 0 }) conversations.Record(route.PrefixHashes, decode.Address);
                TransferUsage kv = summary is null ? TransferUsage.None : new TransferUsage(summary.KvBytesFull, summary.KvBytesSent, summary.KvBytesReused,
                    summary.ReusedPromptTokens, summary.CachedPromptTokens);
                return (samples.Sum(s => s.TokenCount), kv);
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                var failure = NodeCallFailure.From(e);
                string reason = $"{e.StatusCode}, fault {FaultName(failure)}: {Detail(e)}";
                call?.SetStatus(ActivityStatusCode.Error, $"{e.StatusCode}, fault {FaultName(failure)}");
                if (failure.EvictDecodeNode) failures.ReportFailure(decode, callId, reason);
                if (failure.EvictPrefillNode && prefill is not null) failures.ReportFailure(prefill, callId, $"reported by decode node {decode.Address}: {reason}");
                bool retry = attempt == 0 && !delivered && failure.Retryable;
                logger.Log(failure.Kind == NodeCallFailure.Cause.Request ? LogLevel.Information : LogLevel.Warning,
                    "Call {CallId} failed on decode node {Decode} (prefill node {Prefill}): {Reason}; {Outcome}",
                    callId, decode.Address, prefill?.Address ?? "none", reason, retry ? "retrying on other nodes" : "not retried");
                var error = failure.ClientError(requestId, e.Status.Detail, delivered);
                if (!retry) throw error;
                failedAttempt = error;
                metrics.Retries.Inc();
                avoidDecode.Add(decode.Destination);
                if (prefill is not null) avoidPrefill.Add(prefill.Destination);
            }
        }
    }

    /// <summary>
    /// A node of <paramref name="pool"/>; on a retry that finds the pool empty (the failed node just left it), the
    /// client is told what happened to its request rather than that the pool is empty.
    /// </summary>
    private NodeChoice Pick(string pool, HttpContext context, IReadOnlyCollection<DestinationState> avoid, PromptRoute route,
        GenerationException? failedAttempt)
    {
        try
        {
            return nodes.Pick(pool, context, avoid, route);
        }
        catch (NoHealthyNodeException) when (failedAttempt is not null)
        {
            throw failedAttempt;
        }
    }

    private static string FaultName(NodeCallFailure failure) =>
        failure.Side is { } side ? NodeFault.Name(side) : failure.Transport ? "none (transport)" : "none";

    private static string Detail(RpcException e) =>
        e.Status.DebugException is { } transport ? $"{e.Status.Detail} ({transport.GetType().Name}: {transport.Message})" : e.Status.Detail;

    private static GenerateRequest BuildRequest(string callId, IReadOnlyList<int> prompt, GenerationParameters parameters,
        int maxTokens, NodeChoice? prefill)
    {
        var sampling = new SamplingOptions
        {
            Temperature = parameters.Temperature,
            TopP = parameters.TopP,
            TopK = parameters.TopK,
            MaxTokens = maxTokens,
            TopLogprobs = parameters.Logprobs && !parameters.PromptOnly ? parameters.TopLogprobs : 0,
            IgnoreEos = parameters.IgnoreEos,
        };
        if (parameters.Seed is { } seed) sampling.Seed = seed;
        if (parameters.NodePromptLogprobs is { } promptLogprobs) sampling.PromptLogprobs = promptLogprobs;
        var request = new GenerateRequest
        {
            RequestId = callId,
            Sampling = sampling,
            N = parameters.N,
            PrefillAddress = prefill?.Address ?? "",
        };
        request.PromptTokenIds.AddRange(prompt);
        return request;
    }

    /// <summary>Streams one call's tokens into the samples; returns the decode node's summary (null when the call ended early on stop strings).</summary>
    private async Task<RequestSummary?> CallAsync(NodeChoice decode, GenerateRequest request, IReadOnlyList<int> prompt, SampleAssembler[] samples,
        Func<ChoiceDelta, ValueTask> emit, Action onFirstToken, CancellationToken cancellationToken)
    {
        RequestSummary? summary = null;
        var lastTokenAt = new long[samples.Length];
        bool anyToken = false;
        int finishedByNode = 0;
        bool scoresAsked = request.Sampling.HasPromptLogprobs;
        bool promptDelivered = !samples[0].StartsWithPrompt;
        async ValueTask DeliverPrompt(IReadOnlyList<PromptTokenLogprob>? scores)
        {
            promptDelivered = true;
            foreach (var sample in samples) await emit(sample.PromptDelta(prompt, scores));
        }

        using var call = clients.For(decode.Address).Generate(request, clients.Headers(), cancellationToken: cancellationToken);
        await foreach (var item in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            if (item.EventCase == GenerateEvent.EventOneofCase.PromptLogprobs)
            {
                if (!scoresAsked || promptDelivered || item.PromptLogprobs.Tokens.Count != prompt.Count - 1)
                    throw new RpcException(new Status(StatusCode.Internal,
                        $"The decode node sent prompt logprobs out of turn or for another prompt ({item.PromptLogprobs.Tokens.Count} for {prompt.Count} tokens)"));
                await DeliverPrompt(item.PromptLogprobs.Tokens);
                continue;
            }
            if (!promptDelivered)
            {
                if (scoresAsked)
                    throw new RpcException(new Status(StatusCode.Internal, "The decode node sent tokens before the prompt logprobs it was asked for"));
                await DeliverPrompt(null);
            }
            switch (item.EventCase)
            {
                case GenerateEvent.EventOneofCase.Token:
                    int sample = SampleIndex(item.Token.SampleIndex, samples.Length);
                    long now = Stopwatch.GetTimestamp();
                    if (!anyToken)
                    {
                        anyToken = true;
                        Activity.Current?.AddEvent(new ActivityEvent(SpanAttributes.FirstTokenEvent));
                        onFirstToken();
                    }
                    if (lastTokenAt[sample] != 0)
                        metrics.InterTokenLatency.Observe(Stopwatch.GetElapsedTime(lastTokenAt[sample], now).TotalSeconds);
                    lastTokenAt[sample] = now;
                    if (samples[sample].OnToken(item.Token) is { } delta) await emit(delta);
                    break;
                case GenerateEvent.EventOneofCase.Finished:
                    finishedByNode++;
                    var finished = item.Finished;
                    if (samples[SampleIndex(finished.SampleIndex, samples.Length)].OnFinished(finished.FinishReason) is { } last)
                        await emit(last);
                    break;
                case GenerateEvent.EventOneofCase.Summary:
                    summary = item.Summary;
                    metrics.KvTransferBytes.WithLabels("full").Inc(summary.KvBytesFull);
                    metrics.KvTransferBytes.WithLabels("sent").Inc(summary.KvBytesSent);
                    metrics.KvTransferBytes.WithLabels("reused").Inc(summary.KvBytesReused);
                    metrics.ReusedPromptTokens.Inc(summary.ReusedPromptTokens);
                    metrics.CachedPromptTokens.Inc(summary.CachedPromptTokens);
                    Activity.Current?.SetTag(SpanAttributes.KvBytesFull, summary.KvBytesFull).SetTag(SpanAttributes.KvBytesSent, summary.KvBytesSent)
                        .SetTag(SpanAttributes.KvBytesReused, summary.KvBytesReused).SetTag(SpanAttributes.ReusedPromptTokens, summary.ReusedPromptTokens);
                    break;
            }
            // Every sample hit a stop string while the node still generates: end the call, which frees its KV at once.
            if (finishedByNode < samples.Length && samples.All(s => s.Done)) return null;
        }
        if (finishedByNode < samples.Length)
            throw new RpcException(new Status(StatusCode.Internal, "The decode node ended the stream before every sample finished"));
        return summary;
    }

    private static int SampleIndex(int index, int count) =>
        index >= 0 && index < count
            ? index
            : throw new RpcException(new Status(StatusCode.Internal, $"The decode node sent sample index {index} of a request for {count}"));
}
