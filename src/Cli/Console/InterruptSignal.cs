namespace PdServe.Cli;

/// <summary>
/// Turns Ctrl-C into a cancellation token for the duration of a command, so long jobs stop at the next safe point
/// (nothing half-written) and the command exits with "interrupted" (code 130) instead of being killed mid-write.
/// </summary>
public sealed class InterruptSignal : IDisposable
{
    private readonly CancellationTokenSource source = new();

    public InterruptSignal() => Console.CancelKeyPress += OnCancelKeyPress;

    public CancellationToken Token => source.Token;

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        // A second Ctrl-C kills the process as usual.
        if (source.IsCancellationRequested) return;
        e.Cancel = true;
        source.Cancel();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKeyPress;
        source.Dispose();
    }
}
