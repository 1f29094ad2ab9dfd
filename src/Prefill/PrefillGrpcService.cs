using System.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PdServe.Contracts;
using PdServe.Engine.Sampling;
using PdServe.KvTransfer.Connector;
using PdServe.KvTransfer.Wire;
using PdServe.NodeHosting;
using PdServe.NodeHosting.Mapping;

namespace PdServe.Prefill;

/// <summary>
/// PrefillService.Prefill: checks the caller runs the same weights and plan, queues the prompt, and writes the
/// header, each chunk as its layer finishes, and the trailer. A computed KV waits for its reader at most the lease.
/// Every status it ends a call with carries the <see cref="NodeFault"/> trailer: the request (bad input, or a prompt
/// that leads to non-finite logits), this node (not loaded, stopping, full, or broken) or the caller (another
/// model or plan, or KV left unread past its lease).
/// </summary>
public sealed class PrefillGrpcService : PrefillService.PrefillServiceBase
{
    private readonly PrefillNode node;
    private readonly IKvConnector connector;
    private readonly IPrefillStreamFilter filter;
    private readonly NodeCallFrame frame;

    public PrefillGrpcService(PrefillNode node, IKvConnector connector, IPrefillStreamFilter filter, IHostApplicationLifetime lifetime,
        ILogger<PrefillGrpcService> logger)
    {
        this.node = node;
        this.connector = connector;
        this.filter = filter;
        frame = new NodeCallFrame(Stage.Prefill, node, lifetime, logger);
    }

    public override Task Prefill(PrefillRequest request, IServerStreamWriter<PrefillEvent> stream, ServerCallContext context) =>
        frame.RunAsync(context, request.RequestId, () => Serve(request, stream, context), failed: CountTransferFailure);

    /// <summary>A refusal before any KV was computed (bad input, no room) is no failed transfer; everything else is.</summary>
    private void CountTransferFailure(RpcException status, string outcome)
    {
        if (status.StatusCode is not (StatusCode.InvalidArgument or StatusCode.ResourceExhausted))
            node.Metrics.TransferFailures.WithLabels(outcome).Inc();
    }

    private async Task Serve(PrefillRequest request, IServerStreamWriter<PrefillEvent> stream, ServerCallContext context)
    {
        frame.EnsureServing();
        StageModel model = node.Model;
        if (!string.Equals(request.ModelFingerprint, model.ModelFingerprint, StringComparison.OrdinalIgnoreCase))
            throw NodeFault.Error(StatusCode.FailedPrecondition,
                $"weights differ: the prefill node runs model {Short(model.ModelFingerprint)}, the caller runs {Short(request.ModelFingerprint)}", FaultSide.Peer);
        if (!string.Equals(request.PlanFingerprint, model.PlanFingerprint, StringComparison.OrdinalIgnoreCase))
            throw NodeFault.Error(StatusCode.FailedPrecondition,
                $"plan differs: the prefill node runs plan {model.PlanFingerprint}, the caller runs plan {request.PlanFingerprint}", FaultSide.Peer);
        RequestLimits limits = node.Limits;
        int samples = PromptValidation.Validate(request.PromptTokenIds, request.N, limits);
        int[] layers = RequestedLayers(request, model);
        SamplingParams sampling = SamplingMapping.ToEngine(request.Sampling, limits.VocabSize);
        if (!sampling.IsGreedy && sampling.Seed is null)
            throw Invalid("a sampled request needs a seed: the decode node continues each sample's random stream");
        if (node.Holds.HeldBytes >= node.Options.KvHoldBudgetBytes)
            throw NodeFault.Error(StatusCode.ResourceExhausted,
                $"the prefill node holds {node.Holds.HeldBytes} bytes of unread KV, its budget is {node.Options.KvHoldBudgetBytes}", FaultSide.Self);

        int promptLength = request.PromptTokenIds.Count;
        if (request.ReusedPrefixTokens < 0 || request.ReusedPrefixTokens >= promptLength)
            throw Invalid($"reused_prefix_tokens must be 0 to {promptLength - 1} for a {promptLength}-token prompt, got {request.ReusedPrefixTokens}");
        KvSender sender = connector.StartSending(KvSendAdapter.Layout(model, layers, promptLength, request.ReusedPrefixTokens),
            MessageLimits.ChunkBytes(request.MaxChunkBytes));
        KvHeader header = sender.Header(request.RequestId, model.ModelFingerprint, model.PlanFingerprint);
        using var job = new PrefillJob(request.PromptTokenIds.ToArray(), sampling, samples, sender, node.Holds, context.CancellationToken);
        if (!node.Workers.TryEnqueue(job))
            throw NodeFault.Error(StatusCode.ResourceExhausted, $"the prefill queue is full ({node.Options.QueueCapacity} prompts waiting)", FaultSide.Self);
        node.Metrics.PromptTokens.Inc(promptLength);

        // The lease starts when the KV is complete: from then on only the reader can keep it here.
        using var lease = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        _ = job.Computed.ContinueWith(_ => CancelAfterLease(lease), TaskScheduler.Default);
        long started = Stopwatch.GetTimestamp();
        try
        {
            await stream.WriteAsync(new PrefillEvent { Header = filter.Header(header) }, lease.Token);
            await foreach (PrefillEvent item in job.Events.ReadAllAsync(lease.Token))
            {
                if (item.Chunk is { } chunk)
                {
                    KvChunk written = await filter.ChunkAsync(chunk, lease.Token);
                    await stream.WriteAsync(new PrefillEvent { Chunk = written }, lease.Token);
                    job.Written(chunk);
                }
                else
                {
                    await stream.WriteAsync(item, lease.Token);
                    node.Metrics.CountTransfer(item.Trailer.BytesFull, item.Trailer.BytesSent, item.Trailer.BytesReused);
                }
            }
        }
        catch (OperationCanceledException) when (lease.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            // The caller stopped reading: the KV it asked for is dropped rather than held for it any longer.
            throw NodeFault.Error(StatusCode.Aborted, $"the KV was not read within its {node.Options.KvLease.TotalSeconds:0.#} s lease and was dropped", FaultSide.Peer);
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

    /// <summary>The layers whose KV the caller wants: ascending blocks this node runs, at least one.</summary>
    private static int[] RequestedLayers(PrefillRequest request, StageModel model)
    {
        int[] layers = request.Layers.ToArray();
        var run = model.Loaded.Model.Plan.RunBlocks;
        for (int i = 0; i < layers.Length; i++)
        {
            if (!run.Contains(layers[i]) || (i > 0 && layers[i] <= layers[i - 1]))
                throw Invalid($"layers must be ascending blocks this prefill node runs ([{string.Join(',', run)}]), got [{string.Join(',', layers)}]");
        }
        if (layers.Length == 0) throw Invalid("no layers requested");
        return layers;
    }

    private static RpcException Invalid(string message) => NodeFault.Error(StatusCode.InvalidArgument, message, FaultSide.Request);

    private static string Short(string fingerprint) => fingerprint.Length > 12 ? fingerprint[..12] : fingerprint;
}
