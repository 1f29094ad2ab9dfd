using System.Runtime.InteropServices;

namespace PdServe.Cli.Terminal;

/// <summary>
/// Turns Ctrl-C and SIGTERM into a cancellation token for work that must stop cleanly (save a checkpoint, finish a
/// file) rather than die; a second Ctrl-C is left to the runtime and ends the process.
/// </summary>
public sealed class InterruptSignal : IDisposable
{
    private readonly CancellationTokenSource source = new();
    private readonly PosixSignalRegistration terminate;

    public InterruptSignal()
    {
        Console.CancelKeyPress += OnCancelKeyPress;
        terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            source.Cancel();
        });
    }

    public CancellationToken Token => source.Token;

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        if (source.IsCancellationRequested) return;
        e.Cancel = true;
        source.Cancel();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKeyPress;
        terminate.Dispose();
        source.Dispose();
    }
}
