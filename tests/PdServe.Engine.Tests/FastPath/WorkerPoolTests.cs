using PdServe.Engine.FastPath;
using static PdServe.Engine.Tests.FastPath.FastPathTestData;

namespace PdServe.Engine.Tests.FastPath;

/// <summary>
/// The persistent pool: exact, aligned, contiguous slices; bitwise-identical kernel results for 1, 2 and 3
/// workers; failures reaching the caller with the pool still usable; the sleep/wake handshake under many runs.
/// </summary>
public class WorkerPoolTests
{
    [Fact]
    public void Slices_cover_the_range_once_contiguously_at_aligned_boundaries()
    {
        foreach (int workers in new[] { 1, 2, 3, 7 })
        {
            foreach (int count in new[] { 0, 1, 3, 4, 5, 17, 100, 4099 })
            {
                foreach (int alignment in new[] { 1, 4, 512 })
                {
                    int expectedStart = 0;
                    for (int w = 0; w < workers; w++)
                    {
                        (int start, int end) = WorkerPool.Slice(w, workers, count, alignment);
                        Assert.Equal(expectedStart, start);
                        Assert.True(end >= start);
                        if (end < count) Assert.Equal(0, end % alignment);
                        expectedStart = end;
                    }
                    Assert.Equal(count, expectedStart);
                }
            }
        }
    }

    [Fact]
    public void Every_index_is_executed_exactly_once_by_the_worker_its_slice_names()
    {
        foreach (int workers in new[] { 1, 2, 3 })
        {
            using var pool = new WorkerPool(workers);
            foreach (int count in new[] { 1, 2, 5, 1000 })
            {
                var job = new CountingWork(count);
                pool.Run(job, count);
                for (int i = 0; i < count; i++)
                {
                    Assert.Equal(1, job.Hits[i]);
                    (int start, int end) = WorkerPool.Slice(job.Worker[i], workers, count, 1);
                    Assert.InRange(i, start, end - 1);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Isas), MemberType = typeof(FastPathTestData))]
    public void Matrix_products_are_bitwise_the_same_on_one_two_and_three_workers(KernelIsa isa)
    {
        int rows = 37, columns = 90, batch = 3;
        float[] x = Gaussian(batch * columns, seed: 90);
        foreach (WeightFormat format in Enum.GetValues<WeightFormat>())
        {
            using PackedWeights weights = PackedWeights.FromFloat32(Gaussian(rows * columns, seed: 91), rows, columns, format, 32);
            using var activations = new Int8Activations(batch, columns, 32);
            activations.Quantize(isa, x, batch);
            float[]? reference = null, quantizedReference = null;
            foreach (int workers in new[] { 1, 2, 3 })
            {
                using var pool = new WorkerPool(workers);
                var work = new MatrixMultiplyWork { Isa = isa };
                var y = new float[batch * rows];
                work.RunOn(pool, weights, x, batch, y);
                reference ??= y;
                AssertBitwiseEqual(reference, y, $"{isa} {format} on {workers} workers");
                if (format != WeightFormat.Int8) continue;
                var yq = new float[batch * rows];
                work.RunQuantizedOn(pool, weights, activations, yq);
                quantizedReference ??= yq;
                AssertBitwiseEqual(quantizedReference, yq, $"{isa} int8×int8 on {workers} workers");
            }
        }
    }

    [Fact]
    public void A_failure_on_a_helper_or_on_the_caller_reaches_the_caller_and_the_pool_keeps_working()
    {
        using var pool = new WorkerPool(3);
        foreach (int failingWorker in new[] { 2, 0 })
        {
            var failing = new FailingWork(failingWorker);
            var error = Assert.Throws<InvalidOperationException>(() => pool.Run(failing, 30));
            Assert.Equal($"worker {failingWorker} failed", error.Message);
            Assert.Equal(30 - WorkerPool.Slice(failingWorker, 3, 30, 1).End + WorkerPool.Slice(failingWorker, 3, 30, 1).Start,
                failing.Completed);

            var job = new CountingWork(30);
            pool.Run(job, 30);
            Assert.All(job.Hits, hits => Assert.Equal(1, hits));
        }
    }

    [Fact]
    public void Runs_are_not_reentrant()
    {
        using var pool = new WorkerPool(2);
        var nested = new NestedWork(pool);
        Assert.Throws<InvalidOperationException>(() => pool.Run(nested, 4));
        var job = new CountingWork(4);
        pool.Run(job, 4);
        Assert.All(job.Hits, hits => Assert.Equal(1, hits));
    }

    [Fact]
    public void Many_runs_with_sleeping_helpers_all_complete()
    {
        // No spinning at all: every wait goes through the sleep/wake handshake, on both sides.
        using var pool = new WorkerPool(3, idleSpin: TimeSpan.Zero);
        var job = new CountingWork(64);
        for (int run = 0; run < 2000; run++)
        {
            pool.Run(job, 64);
            if (run % 500 == 0) Thread.Sleep(2);
        }
        Assert.All(job.Hits, hits => Assert.Equal(2000, hits));
    }

    [Fact]
    public void Dispose_stops_the_threads_and_later_runs_are_refused()
    {
        var pool = new WorkerPool(3);
        pool.Run(new CountingWork(10), 10);
        pool.Dispose();
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.Run(new CountingWork(10), 10));
    }

    private sealed class CountingWork(int count) : IPoolWork
    {
        public int[] Hits { get; } = new int[count];
        public int[] Worker { get; } = new int[count];

        public void Execute(int worker, int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                Hits[i]++;
                Worker[i] = worker;
            }
        }
    }

    private sealed class FailingWork(int failingWorker) : IPoolWork
    {
        private int completed;

        public int Completed => completed;

        public void Execute(int worker, int start, int end)
        {
            if (worker == failingWorker) throw new InvalidOperationException($"worker {worker} failed");
            Interlocked.Add(ref completed, end - start);
        }
    }

    private sealed class NestedWork(WorkerPool pool) : IPoolWork
    {
        public void Execute(int worker, int start, int end)
        {
            if (worker == 0) pool.Run(new CountingWork(1), 1);
        }
    }
}
