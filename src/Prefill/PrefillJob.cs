using System.Diagnostics;
using System.Threading.Channels;
using PdServe.Contracts;
using PdServe.Engine.Sampling;
using PdServe.KvTransfer.Connector;

namespace PdServe.Prefill;

/// <summary>
/// One prompt to prefill and the stream of its KV: a worker thread emits chunks (as each layer finishes) and then the
/// trailer; the call that asked for it writes them out. Emitted chunks count as held KV until written or dropped, so
/// a reader that goes away never strands memory.
/// </summary>
internal sealed class PrefillJob : IDisposable
{
    private readonly Channel<PrefillEvent> events = Channel.CreateUnbounded<PrefillEvent>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly KvHoldAccount holds;
    private readonly CancellationTokenSource cancellation;
    private readonly TaskCompletionSource computed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Orders Emit, Written and Dispose: a chunk the worker emits while the call is being disposed is either queued and
    // then dropped by Dispose, or never queued and never counted; either way the hold account ends where it started.
    private readonly Lock gate = new();
    private bool disposed;
    private long unwrittenBytes;

    public PrefillJob(IReadOnlyList<int> tokens, SamplingParams sampling, int samples, KvSender sender, KvHoldAccount holds,
        CancellationToken callCancellation)
    {
        Tokens = tokens;
        Sampling = sampling;
        Samples = samples;
        Sender = sender;
        this.holds = holds;
        cancellation = CancellationTokenSource.CreateLinkedTokenSource(callCancellation);
        // Read once: the worker may still look at it after the call disposed the source.
        Cancellation = cancellation.Token;
    }

    /// <summary>The span of the call that asked for this prompt: the worker's compute span is its child, on another thread.</summary>
    public ActivityContext CallSpan { get; } = Activity.Current?.Context ?? default;
    public IReadOnlyList<int> Tokens { get; }
    public SamplingParams Sampling { get; }
    public int Samples { get; }

    /// <summary>The sending half of the transfer: which layers and positions, in which dtype and chunks.</summary>
    public KvSender Sender { get; }
    public long EnqueuedAt { get; } = Stopwatch.GetTimestamp();
    public CancellationToken Cancellation { get; }
    public ChannelReader<PrefillEvent> Events => events.Reader;

    /// <summary>Completes when the worker has emitted everything (or failed): from then on the KV only waits for its reader.</summary>
    public Task Computed => computed.Task;

    /// <summary>Queues a chunk for the call; after the call ended it is dropped uncounted.</summary>
    public void Emit(KvChunk chunk)
    {
        long bytes = chunk.Data.Length;
        lock (gate)
        {
            if (disposed || !events.Writer.TryWrite(new PrefillEvent { Chunk = chunk })) return;
            unwrittenBytes += bytes;
            holds.Add(bytes);
        }
    }

    public void Finish(KvTrailer trailer)
    {
        events.Writer.TryWrite(new PrefillEvent { Trailer = trailer });
        events.Writer.TryComplete();
        computed.TrySetResult();
    }

    public void Fail(Exception error)
    {
        events.Writer.TryComplete(error);
        computed.TrySetResult();
    }

    /// <summary>The call wrote a chunk: its bytes are no longer held here.</summary>
    public void Written(KvChunk chunk)
    {
        long bytes = chunk.Data.Length;
        lock (gate)
        {
            if (disposed) return;
            unwrittenBytes -= bytes;
            holds.Release(bytes);
        }
    }

    /// <summary>Stops the computation (if still running) and drops whatever KV was not written.</summary>
    public void Dispose()
    {
        cancellation.Cancel();
        lock (gate)
        {
            disposed = true;
            events.Writer.TryComplete();
            while (events.Reader.TryRead(out _)) { }
            holds.Release(unwrittenBytes);
            unwrittenBytes = 0;
        }
        cancellation.Dispose();
    }
}
