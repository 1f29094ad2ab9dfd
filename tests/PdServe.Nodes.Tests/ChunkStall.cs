
namespace PdServe.Nodes.Tests;

/// <summary>
/// Stream faults that hold a stream just before chunk <c>chunk</c> — what a stalled node or a saturated link would
/// do mid-transfer — until <see cref="Release"/> (never, if not called) or until the call is cancelled.
/// <see cref="Reached"/> completes when a stream is held there. With <c>firstStreamOnly</c>, later streams pass.
/// </summary>
public sealed class ChunkStall(int chunk, bool firstStreamOnly = false)
{
    private readonly TaskCompletionSource reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int held;

    public Task Reached => reached.Task;

    public void Release() => released.TrySetResult();

    public StreamFaults Faults => new()
    {
        BeforeChunk = async (sequence, cancellation) =>
        {
            if (sequence != chunk || (Interlocked.Exchange(ref held, 1) != 0 && firstStreamOnly)) return;
            reached.TrySetResult();
            await released.Task.WaitAsync(cancellation);
        },
    };
}
