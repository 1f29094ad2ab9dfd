using System.Diagnostics;
using System.Threading.Channels;
using PdServe.Contracts;
using PdServe.Engine.Cache;
using PdServe.Engine.Sampling;
using PdServe.KvTransfer.Connector;
using PdServe.NodeHosting;
using PdServe.NodeHosting.Mapping;
using PdServe.Telemetry;
using static TorchSharp.torch;

namespace PdServe.Prefill;

/// <summary>
/// A bounded queue of prompts and one thread per concurrent prefill, each running torch on one thread. A worker
/// streams every layer's KV out as soon as the layer finishes, then draws the first token of each sample (and scores
/// the prompt's own tokens when the request asked). With a prefix cache, a prompt whose leading blocks an earlier
/// prompt computed takes their KV from it and computes only the rest, then adds its own new blocks.
/// Stopping lets queued and running prompts finish.
/// </summary>
internal sealed class PrefillWorkers : IDisposable
{
    private readonly Channel<PrefillJob> queue;
    private readonly Thread[] threads;
    private readonly StageModel model;
    private readonly NodeMetrics metrics;
    private readonly IPrefillStreamFilter filter;
    private readonly PrefixBlockCache? prefixCache;
    private int running;
    private int waiting;

    public PrefillWorkers(StageModel model, int threadCount, int queueCapacity, NodeMetrics metrics, IPrefillStreamFilter filter,
        PrefixBlockCache? prefixCache = null)
    {
        this.model = model;
        this.metrics = metrics;
        this.filter = filter;
        this.prefixCache = prefixCache;
        queue = Channel.CreateBounded<PrefillJob>(new BoundedChannelOptions(queueCapacity) { FullMode = BoundedChannelFullMode.Wait });
        threads = Enumerable.Range(0, threadCount)
            .Select(i => new Thread(Work) { IsBackground = true, Name = $"pdserve-prefill-{i}" })
            .ToArray();
        foreach (Thread thread in threads) thread.Start();
    }

    public int Running => Volatile.Read(ref running);
    public int Waiting => Volatile.Read(ref waiting);

    /// <summary>False when the queue is full.</summary>
    public bool TryEnqueue(PrefillJob job)
    {
        Interlocked.Increment(ref waiting);
        // Counted before the write, so a worker that takes the job at once never subtracts tokens not yet added.
        metrics.PendingPromptTokens.Inc(job.Tokens.Count);
        if (queue.Writer.TryWrite(job)) return true;
        metrics.PendingPromptTokens.Dec(job.Tokens.Count);
        Interlocked.Decrement(ref waiting);
        return false;
    }

    private void Work()
    {
        set_num_threads(1);
        foreach (PrefillJob job in queue.Reader.ReadAllAsync().ToBlockingEnumerable())
        {
            Interlocked.Decrement(ref waiting);
            Interlocked.Increment(ref running);
            try
            {
                Execute(job);
            }
            catch (Exception error)
            {
                job.Fail(error);
            }
            finally
            {
                Interlocked.Decrement(ref running);
                metrics.PendingPromptTokens.Dec(job.Tokens.Count);
            }
        }
    }

    private void Execute(PrefillJob job)
    {
        job.Cancellation.ThrowIfCancellationRequested();
        double queueSeconds = Stopwatch.GetElapsedTime(job.EnqueuedAt).TotalSeconds;
        long started = Stopwatch.GetTimestamp();
        KvSender sender = job.Sender;
        using Activity? span = Spans.Prefill.StartActivity("prefill compute", ActivityKind.Internal, job.CallSpan)
            ?.SetTag(SpanAttributes.PromptTokens, job.Tokens.Count).SetTag(SpanAttributes.Samples, job.Samples)
            .SetTag(SpanAttributes.QueueSeconds, queueSeconds);
        PromptScoring? scoring = job.Sampling.PromptLogprobs is { } top ? new PromptScoring(top) : null;
        // Scoring needs every position's hidden state: such a prompt computes everything (and may still add its blocks).
        using PrefixHit cached = prefixCache is null || scoring is not null ? PrefixHit.None : prefixCache.Lookup(job.Tokens);
        using PrefixInsertion? insertion = prefixCache?.BeginInsert(job.Tokens, cached.Tokens);
        span?.SetTag(SpanAttributes.CachedPromptTokens, cached.Tokens);
        using Tensor logits = model.Loaded.Model.Prefill(job.Tokens, cache: null, slot: 0, scoring: scoring, cachedPrefix: cached, onBlockKv: (block, keys, values) =>
        {
            // Stops the computation between blocks once nobody will read the result.
            job.Cancellation.ThrowIfCancellationRequested();
            insertion?.Capture(block, keys, values);
            span?.AddEvent(new ActivityEvent(SpanAttributes.LayerDoneEvent, tags: new ActivityTagsCollection { [SpanAttributes.Layer] = block }));
            if (!sender.Sends(block)) return;
            filter.BeforeLayerEncoded(block, job.Cancellation);
            foreach (KvChunk chunk in KvSendAdapter.Encode(sender, block, KvPart.Keys, keys)) job.Emit(chunk);
            foreach (KvChunk chunk in KvSendAdapter.Encode(sender, block, KvPart.Values, values)) job.Emit(chunk);
        });
        SampledToken[] first = SampleFirstTokens(logits, job);
        // Only a prompt that made it through sampling shares its blocks.
        insertion?.Commit();
        double prefillSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        metrics.PrefillSeconds.Observe(prefillSeconds);

        KvTrailer trailer = sender.Trailer();
        span?.SetTag(SpanAttributes.KvBytesFull, trailer.BytesFull).SetTag(SpanAttributes.KvBytesPrunedFloat32, trailer.BytesPrunedFloat32)
            .SetTag(SpanAttributes.KvBytesSent, trailer.BytesSent);
        trailer.QueueSeconds = queueSeconds;
        trailer.PrefillSeconds = prefillSeconds;
        trailer.CachedPromptTokens = cached.Tokens;
        trailer.FirstTokens.AddRange(first.Select((token, sample) => TokenMapping.ToFirstToken(sample, token)));
        if (scoring is not null) trailer.PromptLogprobs.AddRange(TokenMapping.ToWire(scoring.Scores));
        job.Finish(trailer);
    }

    /// <summary>
    /// Sample i draws with seed + i, as the decode node's engine will continue it. Logits the prompt made non-finite
    /// throw <see cref="PdServe.Engine.Sampling.RequestFaultException"/>: the request's fault, not the node's.
    /// </summary>
    private static SampledToken[] SampleFirstTokens(Tensor logits, PrefillJob job)
    {
        ulong seed = job.Sampling.Seed ?? 0;
        SequenceSampler[] samplers = Enumerable.Range(0, job.Samples)
            .Select(i => new SequenceSampler(job.Sampling, seed + (ulong)i)).ToArray();
        try
        {
            using var scope = NewDisposeScope();
            return Sampler.Sample(logits.unsqueeze(0).expand(job.Samples, -1), samplers);
        }
        finally
        {
            foreach (SequenceSampler sampler in samplers) sampler.Dispose();
        }
    }

    /// <summary>Lets queued and running prompts finish, then ends the threads.</summary>
    public void Dispose()
    {
        queue.Writer.TryComplete();
        foreach (Thread thread in threads) thread.Join();
    }
}
