using System.Diagnostics;
using System.Runtime.InteropServices;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Cluster;

/// <summary>
/// A process this one started and owns: its output forwarded line by line with a <c>[name]</c> prefix (the last lines
/// kept for error messages), stopped with SIGTERM so it can clean up, then killed with its whole tree if it outlives the
/// grace period. Disposing stops it at once.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private const int SigTerm = 15;
    private const int KeptLines = 3;

    private readonly Process process;
    private readonly Queue<string> lastLines = new();
    private Func<string, bool>? consume;
    private int disposed;

    private ChildProcess(string name, Process process)
    {
        Name = name;
        this.process = process;
        Pid = process.Id;
    }

    public string Name { get; }
    /// <summary>Kept from the start: still readable after disposal (a sampler may hold a node that was just restarted).</summary>
    public int Pid { get; }
    public bool HasExited => process.HasExited;
    public int ExitCode => process.ExitCode;

    /// <summary>Raised for every line of output (stdout and stderr), after it was forwarded.</summary>
    public event Action<string>? LineReceived;

    public string LastOutput
    {
        get
        {
            lock (lastLines) return string.Join(" | ", lastLines);
        }
    }

    /// <param name="consume">Sees each line first; a line it returns true for is its own: not logged, not kept, not raised.</param>
    public static ChildProcess Start(string name, ProcessStartInfo info, TextWriter log, Func<string, bool>? consume = null)
    {
        info.UseShellExecute = false;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        var process = Process.Start(info) ?? throw new CliError($"could not start {name}");
        var child = new ChildProcess(name, process) { consume = consume };
        process.OutputDataReceived += (_, e) => child.Forward(e.Data, log);
        process.ErrorDataReceived += (_, e) => child.Forward(e.Data, log);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Pins the process (and the threads it creates later, which inherit the mask) to <paramref name="cores"/>.</summary>
    public void Pin(IReadOnlyList<int> cores)
    {
        if (!OperatingSystem.IsLinux() || cores.Count == 0 || cores.Max() >= 63) return;
        long mask = cores.Aggregate(0L, (m, core) => m | (1L << core));
        try
        {
            process.ProcessorAffinity = (IntPtr)mask;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // The process may already have exited (it reports why); pinning is an optimisation.
        }
    }

    /// <summary>Waits for the process to end by itself (after its output was forwarded) and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode;
    }

    /// <summary>SIGTERM, then a kill of the process tree if it is still running after <paramref name="grace"/>.</summary>
    public void Stop(TimeSpan grace)
    {
        if (Volatile.Read(ref disposed) != 0 || process.HasExited) return;
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) _ = Kill(process.Id, SigTerm);
        if (!process.WaitForExit(grace)) KillTree();
    }

    /// <summary>SIGKILL to the process alone (its own children are left to its watchdog); returns once it has exited.</summary>
    public void Kill()
    {
        if (Volatile.Read(ref disposed) != 0 || process.HasExited) return;
        try
        {
            process.Kill(entireProcessTree: false);
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
        process.WaitForExit();
    }

    private void KillTree()
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the wait and the kill.
        }
        process.WaitForExit();
    }

    /// <summary>Idempotent: a cancellation callback and a using block may both dispose the same process.</summary>
    public void Dispose()
    {
        Stop(TimeSpan.Zero);
        if (Interlocked.Exchange(ref disposed, 1) == 0) process.Dispose();
    }

    private void Forward(string? line, TextWriter log)
    {
        if (line is null || consume?.Invoke(line) == true) return;
        lock (lastLines)
        {
            lastLines.Enqueue(line);
            if (lastLines.Count > KeptLines) lastLines.Dequeue();
        }
        lock (log) log.WriteLine($"[{Name}] {line}");
        LineReceived?.Invoke(line);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
