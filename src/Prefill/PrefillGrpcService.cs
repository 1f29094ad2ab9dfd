using System.Diagnostics;
using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PdServe.Engine.Generation;
using PdServe.Engine.Sampling;
using PdServe.KvTransfer;
using PdServe.Contracts;
using PdServe.KvTransfer.Wire;
using PdServe.NodeHosting;

namespace PdServe.Prefill;

/// <summary>
/// PrefillService.Prefill: checks the caller runs the same weights and plan, queues the prompt, and writes the
/// header, each chunk as its layer finishes, and the trailer. A computed KV waits for its reader at most the lease.
/// Every status it ends a call with carries the <see cref="NodeFault"/> trailer: the request (bad input, or a prompt
/// that leads to non-finite logits), this node (not loaded, stopping, full, or broken) or the caller (another
/// model or plan, or KV left unread past its lease).
/// </summary>
public sealed class PrefillGrpcService(PrefillNode node, IHostApplicationLifetime lifetime, ILogger<PrefillGrpcService> logger)
    : PrefillService.PrefillServiceBase
{
    public override async Task Prefill(PrefillRequest request, IServerStreamWriter<PrefillEvent> stream, ServerCallContext context)
    {
        try
        {
            await Serve(request, stream, context);
            node.Metrics.Requests.WithLabels("ok").Inc();
        }
        catch (Exception) when (context.CancellationToken.IsCancellationRequested)
        {
            node.Metrics.Requests.WithLabels("cancelled").Inc();
            node.Metrics.TransferFailures.WithLabels("cancelled").Inc();
            throw NodeFault.Error(StatusCode.Cancelled, "the caller went away", FaultSide.Request);
        }
        catch (Exception error)
        {
            RpcException status = ToStatus(error, request.RequestId);
            node.Metrics.Requests.WithLabels(status.StatusCode.ToString()).Inc();
            if (status.StatusCode is not (StatusCode.InvalidArgument or StatusCode.ResourceExhausted))
                node.Metrics.TransferFailures.WithLabels(status.StatusCode.ToString()).Inc();
            throw status;
        }
    }

    /// <summary>The status a failure ends the call with; anything unforeseen is this node's INTERNAL error, logged.</summary>
    private RpcException ToStatus(Exception error, string requestId)
    {
        if (error is ChannelClosedException { InnerException: { } inner }) error = inner;
        switch (error)
        {
            case RpcException status when NodeFault.Of(status) is not null:
                return status;
            case RequestFaultException or ArgumentException:
                return Error(StatusCode.InvalidArgument, error.Message, FaultSide.Request);
            default:
                logger.LogError(error, "Prefill of request {RequestId} failed", requestId);
                return Error(StatusCode.Internal, $"the prefill node failed: {error.GetType().Name}", FaultSide.Self);
        }
    }

    private async Task Serve(PrefillRequest request, IServerStreamWriter<PrefillEvent> stream, ServerCallContext context)
    {
        if (!node.Readiness.IsReady) throw Error(StatusCode.Unavailable, "the prefill node's model is not loaded yet", FaultSide.Self);
        if (lifetime.ApplicationStopping.IsCancellationRequested)
            throw Error(StatusCode.Unavailable, "the prefill node is shutting down", FaultSide.Self);
        StageModel model = node.Model;
        if (!string.Equals(request.ModelFingerprint, model.ModelFingerprint, StringComparison.OrdinalIgnoreCase))
            throw Error(StatusCode.FailedPrecondition,
                $"weights differ: the prefill node runs model {Short(model.ModelFingerprint)}, the caller runs {Short(request.ModelFingerprint)}", FaultSide.Peer);
        if (!string.Equals(request.PlanFingerprint, model.PlanFingerprint, StringComparison.OrdinalIgnoreCase))
            throw Error(StatusCode.FailedPrecondition,
                $"plan differs: the prefill node runs plan {model.PlanFingerprint}, the caller runs plan {request.PlanFingerprint}", FaultSide.Peer);
        (SamplingParams sampling, int[] layers) = Validate(request, model);
        if (node.Holds.HeldBytes >= node.Options.KvHoldBudgetBytes)
            throw Error(StatusCode.ResourceExhausted, $"the prefill node holds {node.Holds.HeldBytes} bytes of unread KV, its budget is {node.Options.KvHoldBudgetBytes}", FaultSide.Self);

        var config = model.Loaded.Model.Config;
        WireDtype wireDtype = WireDtypes.ToWire(model.KvPolicy.WireDtype);
        int promptLength = request.PromptTokenIds.Count;
        var header = new KvHeader
        {
            RequestId = request.RequestId,
            ModelFingerprint = model.ModelFingerprint,
            PlanFingerprint = model.PlanFingerprint,
            WireDtype = wireDtype,
            PromptTokens = promptLength,
            KvHeads = config.NumKvHeads,
            HeadDim = config.HeadDim,
        };
        header.Layers.AddRange(layers.Select(layer => PositionRanges.ForLayer(layer, model.KvPolicy.KeptPositions(layer, promptLength))));

        using var job = new PrefillJob(request.PromptTokenIds.ToArray(), sampling, request.N, layers, model.KvPolicy,
            wireDtype, MessageLimits.ChunkBytes(request.MaxChunkBytes), node.Holds, context.CancellationToken);
        if (!node.Workers.TryEnqueue(job))
            throw Error(StatusCode.ResourceExhausted, $"the prefill queue is full ({node.Options.QueueCapacity} prompts waiting)", FaultSide.Self);
        node.Metrics.PromptTokens.Inc(promptLength);

        // The lease starts when the KV is complete: from then on only the reader can keep it here.
        using var lease = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        _ = job.Computed.ContinueWith(_ => CancelAfterLease(lease), TaskScheduler.Default);
        long started = Stopwatch.GetTimestamp();
        PrefillTestHooks? hooks = node.Options.TestHooks;
        try
        {
            KvHeader written = hooks?.AlterHeader is { } alterHeader ? alterHeader(header) : header;
            await stream.WriteAsync(new PrefillEvent { Header = written }, lease.Token);
            await foreach (PrefillEvent item in job.Events.ReadAllAsync(lease.Token))
            {
                if (item.Chunk is { } chunk)
                {
                    if (hooks?.BeforeChunk is { } before) await before(chunk.Sequence, lease.Token);
                    KvChunk sent = hooks?.AlterChunk is { } alter ? alter(chunk) : chunk;
                    await stream.WriteAsync(new PrefillEvent { Chunk = sent }, lease.Token);
                    job.Written(chunk);
                }
                else
                {
                    await stream.WriteAsync(item, lease.Token);
                    node.Metrics.CountTransfer(item.Trailer.BytesFull, item.Trailer.BytesSent);
                }
            }
        }
        catch (OperationCanceledException) when (lease.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            // The caller stopped reading: the KV it asked for is dropped rather than held for it any longer.
            throw Error(StatusCode.Aborted, $"the KV was not read within its {node.Options.KvLease.TotalSeconds:0.#} s lease and was dropped", FaultSide.Peer);
        }
        node.Metrics.TransferSeconds.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private void CancelAfterLease(CancellationTokenSource lease)
    {
        try
        {
            lease.CancelAfter(node.Options.KvLease);
        }
        catch (ObjectDisposedException)
        {
            // The call ended first.
        }
    }

    private static (SamplingParams Sampling, int[] Layers) Validate(PrefillRequest request, StageModel model)
    {
        var config = model.Loaded.Model.Config;
        int promptLength = request.PromptTokenIds.Count;
        if (promptLength == 0) throw Error(StatusCode.InvalidArgument, "the prompt has no tokens", FaultSide.Request);
        if (promptLength >= config.MaxPositionEmbeddings)
            throw Error(StatusCode.InvalidArgument, $"the prompt has {promptLength} tokens; the model's context is {config.MaxPositionEmbeddings}", FaultSide.Request);
        foreach (int id in request.PromptTokenIds)
        {
            if (id < 0 || id >= config.VocabSize) throw Error(StatusCode.InvalidArgument, $"prompt token id {id} is outside the vocabulary [0, {config.VocabSize})", FaultSide.Request);
        }
        if (request.N is < 1 or > 64) throw Error(StatusCode.InvalidArgument, $"n must be between 1 and 64, got {request.N}", FaultSide.Request);
        int[] layers = request.Layers.ToArray();
        var run = model.Loaded.Model.Plan.RunBlocks;
        for (int i = 0; i < layers.Length; i++)
        {
            if (!run.Contains(layers[i]) || (i > 0 && layers[i] <= layers[i - 1]))
                throw Error(StatusCode.InvalidArgument, $"layers must be ascending blocks this prefill node runs ([{string.Join(',', run)}]), got [{string.Join(',', layers)}]", FaultSide.Request);
        }
        if (layers.Length == 0) throw Error(StatusCode.InvalidArgument, "no layers requested", FaultSide.Request);
        try
        {
            SamplingParams sampling = SamplingOptionsMapping.ToEngine(request.Sampling, config.VocabSize);
            if (!sampling.IsGreedy && sampling.Seed is null)
                throw Error(StatusCode.InvalidArgument, "a sampled request needs a seed: the decode node continues each sample's random stream", FaultSide.Request);
            return (sampling, layers);
        }
        catch (ArgumentException error)
        {
            throw Error(StatusCode.InvalidArgument, error.Message, FaultSide.Request);
        }
    }

    private static RpcException Error(StatusCode code, string message, FaultSide side) => NodeFault.Error(code, message, side);

    private static string Short(string fingerprint) => fingerprint.Length > 12 ? fingerprint[..12] : fingerprint;
}
