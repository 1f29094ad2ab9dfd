using System.Threading.Channels;

namespace PdServe.Engine.Generation;

/// <summary>
/// A submitted request: its output channel, its cancellation, how many of its samples still run, and — when the
/// prompt was prefilled elsewhere — the received KV and first tokens.
/// </summary>
internal sealed class PendingRequest(GenerationRequest request, CancellationToken cancellation, PrefilledPrompt? prefilled = null)
{
    private readonly Channel<GeneratedToken> output = Channel.CreateUnbounded<GeneratedToken>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    public GenerationRequest Request { get; } = request;
    public CancellationToken Cancellation { get; } = cancellation;
    public PrefilledPrompt? Prefilled { get; } = prefilled;
    public ChannelReader<GeneratedToken> Reader => output.Reader;
    public int UnfinishedSamples { get; set; } = request.SampleCount;
    public bool IsCancelled => Cancellation.IsCancellationRequested;

    /// <summary>Wakes the engine when the caller cancels; dropped when the request completes.</summary>
    public CancellationTokenRegistration WakeOnCancel { get; set; }

    public void Emit(GeneratedToken token) => output.Writer.TryWrite(token);

    public void Complete(Exception? error = null)
    {
        WakeOnCancel.Dispose();
        Prefilled?.Dispose();
        output.Writer.TryComplete(error);
    }
}
