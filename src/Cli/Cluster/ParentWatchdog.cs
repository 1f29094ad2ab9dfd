using System.Globalization;
using System.Runtime.InteropServices;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Cluster;

/// <summary>
/// Ends a node process whose <c>pdserve up</c> (or benchmark) is gone, even when that parent died by SIGKILL and could
/// not stop it. The parent passes its PID in <see cref="EnvironmentVariable"/>; the node compares <c>getppid()</c> with
/// it at start and every <see cref="PollInterval"/> on a background thread (an orphan is re-parented, so its parent PID
/// changes). Not PR_SET_PDEATHSIG: Linux ties that to the thread that forked, and the parent's thread-pool thread may
/// exit long before the parent does, which would kill a healthy node.
/// </summary>
public sealed class ParentWatchdog : IDisposable
{
    public const string EnvironmentVariable = "PDSERVE_PARENT_PID";
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    private readonly int parentPid;
    private readonly CancellationTokenSource parentGone = new();
    private readonly CancellationTokenSource disposed = new();
    private readonly TimeSpan exitBound;

    private ParentWatchdog(int parentPid, TimeSpan exitBound)
    {
        this.parentPid = parentPid;
        this.exitBound = exitBound;
        new Thread(Watch) { IsBackground = true, Name = "parent watchdog" }.Start();
    }

    /// <summary>The PID this process was told its parent has.</summary>
    public int ParentPid => parentPid;

    /// <summary>Cancelled once the parent is gone (possibly at once, when it was gone before the node started).</summary>
    public CancellationToken ParentGone => parentGone.Token;

    /// <summary>
    /// A watchdog on the parent named in the environment; null when none is named (a node started by hand or by a
    /// supervisor that restarts it). When the parent is gone, <see cref="ParentGone"/> fires so the node can stop
    /// gracefully, and if the process still runs <paramref name="exitBound"/> later it exits hard.
    /// </summary>
    public static ParentWatchdog? FromEnvironment(TimeSpan exitBound)
    {
        if (!OperatingSystem.IsLinux()) return null;
        string? value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (value is null || !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid <= 0) return null;
        return new ParentWatchdog(pid, exitBound);
    }

    /// <summary>Stops watching a parent that is still there; once it is gone, the hard exit stays armed.</summary>
    public void Dispose() => disposed.Cancel();

    private bool ParentIsGone() => GetParentPid() != parentPid;

    private void Watch()
    {
        while (!ParentIsGone())
        {
            if (disposed.Token.WaitHandle.WaitOne(PollInterval)) return;
        }
        parentGone.Cancel();
        // The graceful stop is bounded by the caller; this bounds it again in case a foreground thread (a decode loop,
        // a model load still running) keeps the process alive after the node stopped.
        Thread.Sleep(exitBound);
        Exit(ExitCodes.Failure);
    }

    [DllImport("libc", EntryPoint = "getppid")]
    private static extern int GetParentPid();

    // _exit, not Environment.Exit: the host's ProcessExit handler waits for the host to stop, which is what hangs.
    [DllImport("libc", EntryPoint = "_exit")]
    private static extern void Exit(int status);
}
