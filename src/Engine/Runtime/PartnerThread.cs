using System.Diagnostics;
using static TorchSharp.torch;

namespace PdServe.Engine.Runtime;

/// <summary>
/// Splits decode-step work in two halves on two threads: the caller computes the first half while a partner thread
/// computes the second. A decode step is a chain of matrix-vector products that torch runs on one core however
/// many threads it is given (measured here: the same GB/s with 1 and 2 threads), while two cores stream memory
/// about twice as fast as one; and torch's own threading of a step's small attention costs more than it saves.
/// Both threads run torch single-threaded meanwhile, so the process never uses more than two cores. The partner
/// spins between the pieces of a step (they come microseconds apart) and sleeps once idle for <see cref="IdleSpin"/>.
/// </summary>
public sealed class PartnerThread : IDisposable
{
    private static readonly TimeSpan IdleSpin = TimeSpan.FromMilliseconds(2);

    private const int Idle = 0;
    private const int Posted = 1;
    private const int Done = 2;
    private const int Stopping = 3;

    private readonly Thread partner;
    private readonly ManualResetEventSlim wake = new(false);
    private int state = Idle;
    private int partnerSleeping;
    private Func<Tensor>? job;
    private Tensor? jobResult;
    private Exception? jobError;

    public PartnerThread()
    {
        partner = new Thread(PartnerLoop) { IsBackground = true, Name = "pdserve-partner" };
        partner.Start();
    }

    /// <summary>
    /// x·Wᵀ + b for W split by rows into <paramref name="firstWeight"/> and <paramref name="secondWeight"/>: returns
    /// the two halves of the output's last dimension.
    /// </summary>
    public (Tensor First, Tensor Second) Linear(Tensor x, Tensor firstWeight, Tensor? firstBias, Tensor secondWeight, Tensor? secondBias) =>
        Run(() => nn.functional.linear(x, firstWeight, firstBias), () => nn.functional.linear(x, secondWeight, secondBias));

    /// <summary>
    /// Runs <paramref name="first"/> here and <paramref name="second"/> on the partner at the same time. Both must
    /// only read shared tensors. The second result is attached to the caller's dispose scope.
    /// </summary>
    public (Tensor First, Tensor Second) Run(Func<Tensor> first, Func<Tensor> second)
    {
        job = second;
        Interlocked.Exchange(ref state, Posted); // full fence: the job is visible before we look at partnerSleeping
        if (Volatile.Read(ref partnerSleeping) == 1) wake.Set();

        Tensor firstResult;
        try
        {
            firstResult = first();
        }
        catch
        {
            // Never leave the partner running on tensors the caller may free, nor its result behind.
            Collect(out Tensor? orphan, out _);
            orphan?.Dispose();
            throw;
        }
        Collect(out Tensor? secondResult, out Exception? error);
        if (error is not null)
        {
            firstResult.Dispose();
            throw new InvalidOperationException($"the partner's half of a decode step failed: {error.Message}", error);
        }
        CurrentDisposeScope?.Attach(secondResult!);
        return (firstResult, secondResult!);
    }

    /// <summary>Waits for the partner's job and takes its outcome, leaving the partner idle.</summary>
    private void Collect(out Tensor? result, out Exception? error)
    {
        var spin = new SpinWait();
        while (Volatile.Read(ref state) != Done) spin.SpinOnce(sleep1Threshold: -1);
        result = jobResult;
        error = jobError;
        job = null;
        jobResult = null;
        jobError = null;
        Volatile.Write(ref state, Idle);
    }

    private void PartnerLoop()
    {
        // Torch's thread count is per thread; initialise it, then keep this thread's products single-threaded.
        using (ones(1).add(HeldScalars.One, HeldScalars.One)) { }
        set_num_threads(1);
        using var noGrad = no_grad();
        var idle = Stopwatch.StartNew();
        while (true)
        {
            int current = Volatile.Read(ref state);
            if (current == Stopping) return;
            if (current != Posted)
            {
                if (idle.Elapsed < IdleSpin)
                {
                    Thread.SpinWait(20);
                    continue;
                }
                wake.Reset();
                Interlocked.Exchange(ref partnerSleeping, 1);
                if (Volatile.Read(ref state) is Idle or Done) wake.Wait();
                Volatile.Write(ref partnerSleeping, 0);
                idle.Restart();
                continue;
            }
            try
            {
                jobResult = job!();
            }
            catch (Exception e)
            {
                jobError = e;
            }
            Volatile.Write(ref state, Done);
            idle.Restart();
        }
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref state, Stopping);
        wake.Set();
        partner.Join();
        wake.Dispose();
    }
}
