using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace PdServe.Engine.FastPath;

/// <summary>
/// Persistent threads that split a range of rows for the decode kernels. The calling thread is worker 0 and
/// <see cref="Workers"/> − 1 threads are started once. <see cref="Run"/> publishes the work with one counter
/// increment, computes its own slice and waits for the rest: no allocation, no task, no queue per call. Between
/// runs the helpers spin for <see cref="IdleSpin"/> (a decode step's runs come microseconds apart) and then sleep
/// on their own event, set by the next run only if they sleep.
/// <para>
/// The split is a pure function of (count, alignment, workers) — contiguous slices, boundaries at multiples of
/// the alignment — and each index is handed to exactly one worker; kernels whose outputs depend only on their own
/// index (all of them here) therefore give bitwise the same results for any worker count.
/// </para>
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private readonly Thread[] helpers;
    private readonly ManualResetEventSlim[] wake;
    private readonly int[] sleeping;
    private readonly ManualResetEventSlim finished = new(false);
    private readonly long idleSpinTicks;
    private int callerSleeping;
    private int generation;
    private int pending;
    private int running;
    private IPoolWork? work;
    private int count;
    private int alignment;
    private Exception? failure;
    private volatile bool stopping;

    public WorkerPool(int workers, TimeSpan? idleSpin = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        Workers = workers;
        IdleSpin = idleSpin ?? TimeSpan.FromMilliseconds(1);
        idleSpinTicks = (long)(IdleSpin.TotalSeconds * Stopwatch.Frequency);
        helpers = new Thread[workers - 1];
        wake = new ManualResetEventSlim[workers - 1];
        sleeping = new int[workers - 1];
        for (int i = 0; i < helpers.Length; i++)
        {
            wake[i] = new ManualResetEventSlim(false);
            int worker = i + 1;
            helpers[i] = new Thread(() => HelperLoop(worker)) { IsBackground = true, Name = $"pdserve-fastpath-{worker}" };
            helpers[i].Start();
        }
    }

    /// <summary>Threads taking part in a run, the caller included.</summary>
    public int Workers { get; }

    /// <summary>How long an idle thread spins before it sleeps.</summary>
    public TimeSpan IdleSpin { get; }

    /// <summary>
    /// Runs <paramref name="job"/> over [0, <paramref name="count"/>) split across the workers (see <see cref="Slice"/>),
    /// returning when every slice is done. An exception from any worker is rethrown here once all have finished
    /// (the first one, if several fail). Not reentrant: one run at a time, and not from inside a job.
    /// </summary>
    public void Run(IPoolWork job, int count, int alignment = 1)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(alignment, 1);
        ObjectDisposedException.ThrowIf(stopping, this);
        if (Interlocked.Exchange(ref running, 1) != 0)
            throw new InvalidOperationException("a worker pool runs one job at a time (and a job must not run the pool again)");
        try
        {
            if (count == 0) return;
            if (Workers == 1)
            {
                job.Execute(0, 0, count);
                return;
            }
            work = job;
            this.count = count;
            this.alignment = alignment;
            failure = null;
            Volatile.Write(ref pending, Workers - 1);
            Interlocked.Increment(ref generation); // a full fence: the fields above are visible before any helper sees it
            for (int i = 0; i < helpers.Length; i++)
                if (Volatile.Read(ref sleeping[i]) == 1) wake[i].Set();
            Execute(0);
            WaitForHelpers();
            work = null;
            if (failure is { } error)
            {
                failure = null;
                ExceptionDispatchInfo.Capture(error).Throw();
            }
        }
        finally
        {
            Volatile.Write(ref running, 0);
        }
    }

    /// <summary>
    /// Worker <paramref name="worker"/>'s contiguous slice: whole alignment units, the first workers one unit more
    /// when they do not divide evenly.
    /// </summary>
    public static (int Start, int End) Slice(int worker, int workers, int count, int alignment)
    {
        long units = (count + (long)alignment - 1) / alignment;
        long perWorker = units / workers, extra = units % workers;
        long firstUnit = worker * perWorker + Math.Min(worker, extra);
        long unitCount = perWorker + (worker < extra ? 1 : 0);
        return ((int)Math.Min(count, firstUnit * alignment), (int)Math.Min(count, (firstUnit + unitCount) * alignment));
    }

    private void Execute(int worker)
    {
        (int start, int end) = Slice(worker, Workers, count, alignment);
        if (start >= end) return;
        try
        {
            work!.Execute(worker, start, end);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref failure, e, null);
        }
    }

    private void WaitForHelpers()
    {
        long spinUntil = Stopwatch.GetTimestamp() + idleSpinTicks;
        var spin = new SpinWait();
        while (Volatile.Read(ref pending) != 0)
        {
            if (Stopwatch.GetTimestamp() < spinUntil)
            {
                spin.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            // Same handshake as the helpers' sleep: whoever finishes last sees callerSleeping and sets the event.
            finished.Reset();
            Interlocked.Exchange(ref callerSleeping, 1);
            if (Volatile.Read(ref pending) != 0) finished.Wait();
            Volatile.Write(ref callerSleeping, 0);
        }
    }

    private void HelperLoop(int worker)
    {
        int seen = 0;
        while (true)
        {
            seen = WaitForGeneration(worker, seen);
            if (stopping) return;
            Execute(worker);
            if (Interlocked.Decrement(ref pending) == 0 && Volatile.Read(ref callerSleeping) == 1) finished.Set();
        }
    }

    private int WaitForGeneration(int worker, int seen)
    {
        int index = worker - 1;
        long spinUntil = Stopwatch.GetTimestamp() + idleSpinTicks;
        var spin = new SpinWait();
        while (true)
        {
            int current = Volatile.Read(ref generation);
            if (current != seen || stopping) return current;
            if (Stopwatch.GetTimestamp() < spinUntil)
            {
                spin.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            // Reset, announce, re-check, sleep: a run that starts after the announcement sets the event, and one
            // that started before it is caught by the re-check (both sides use full fences).
            wake[index].Reset();
            Interlocked.Exchange(ref sleeping[index], 1);
            if (Volatile.Read(ref generation) == seen && !stopping) wake[index].Wait();
            Volatile.Write(ref sleeping[index], 0);
            spinUntil = Stopwatch.GetTimestamp() + idleSpinTicks;
            spin = new SpinWait();
        }
    }

    public void Dispose()
    {
        if (stopping) return;
        stopping = true;
        Interlocked.Increment(ref generation);
        foreach (ManualResetEventSlim e in wake) e.Set();
        foreach (Thread t in helpers) t.Join();
        foreach (ManualResetEventSlim e in wake) e.Dispose();
        finished.Dispose();
    }
}
