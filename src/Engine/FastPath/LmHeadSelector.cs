using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace PdServe.Engine.FastPath;

/// <summary>
/// The LM head fused with token selection: logits = hidden · Eᵀ over the vocabulary, reduced as they are made to
/// what sampling needs — the greedy argmax, the top-k logits and ids, the maximum and the log-sum-exp (so
/// log p(t) = logit(t) − LogSumExp) — without writing the [batch, vocab] logits, unless a sampler needs the full
/// row (pass a logits buffer and the same selection comes with it).
/// <para>
/// The vocabulary is cut into fixed chunks of <see cref="ChunkRows"/> rows, the pool's work items: each chunk's
/// logits go to the worker's L1-sized scratch (or the caller's row), and the chunk keeps its maximum, its Σe^(l−max)
/// and its own top-k. <see cref="Finish"/> merges the chunks in vocabulary order, so the results do not depend on
/// how many workers ran or which took which chunk. Ties rank the lower id first.
/// </para>
/// Usage per step: <see cref="Run"/> (Begin, the pool run, Finish), or <see cref="Select(ReadOnlySpan{float}, int)"/>
/// on the calling thread; then read <see cref="ArgMax"/>, <see cref="TopIds"/>, <see cref="TopLogits"/>,
/// <see cref="LogSumExp"/>. Everything is allocated at construction.
/// </summary>
public sealed unsafe class LmHeadSelector : IPoolWork, IDisposable
{
    /// <summary>Vocabulary rows per chunk (a multiple of the weight tile): 512 × 16 rows of f32 scratch is 32 KiB.</summary>
    public const int ChunkRows = 512;

    private readonly PackedWeights head;
    private readonly nint[] scratch;
    private readonly float[] chunkMax;
    private readonly float[] chunkSum;
    private readonly int[] chunkTopIds;
    private readonly float[] chunkTopValues;
    private readonly int[] chunkTopCount;
    private readonly int[] topIds;
    private readonly float[] topValues;
    private readonly int[] topCount;
    private readonly float[] maxLogit;
    private readonly float[] logSumExp;
    private float* hidden;
    private int hiddenStride;
    private float* logits;
    private int logitsStride;

    /// <param name="head">The output embedding [vocab, hidden] (the tied input embedding or lm_head).</param>
    /// <param name="maxBatch">The most sequences a step selects for.</param>
    /// <param name="topK">Candidates kept per sequence (at least 1: the argmax).</param>
    /// <param name="workers">The pool's worker count: one scratch buffer each.</param>
    public LmHeadSelector(PackedWeights head, int maxBatch, int topK, int workers)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(topK, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        this.head = head;
        MaxBatch = maxBatch;
        TopK = Math.Min(topK, head.Rows);
        Chunks = (head.Rows + ChunkRows - 1) / ChunkRows;
        scratch = new nint[workers];
        for (int w = 0; w < workers; w++)
            scratch[w] = (nint)NativeMemory.AlignedAlloc((nuint)Math.Min(maxBatch, MatrixKernels.MaxBatchPerPass) * ChunkRows * sizeof(float), 64);
        chunkMax = new float[maxBatch * Chunks];
        chunkSum = new float[maxBatch * Chunks];
        chunkTopIds = new int[maxBatch * Chunks * TopK];
        chunkTopValues = new float[maxBatch * Chunks * TopK];
        chunkTopCount = new int[maxBatch * Chunks];
        topIds = new int[maxBatch * TopK];
        topValues = new float[maxBatch * TopK];
        topCount = new int[maxBatch];
        maxLogit = new float[maxBatch];
        logSumExp = new float[maxBatch];
    }

    ~LmHeadSelector() => Free();

    public KernelIsa Isa { get; set; } = KernelCapabilities.Best;
    public int MaxBatch { get; }
    public int TopK { get; }
    /// <summary>Work items of a run: vocabulary chunks.</summary>
    public int Chunks { get; }
    public int Vocabulary => head.Rows;
    public int Batch { get; private set; }

    /// <summary>
    /// Sets a step's inputs: hidden row i (normed, Columns values) at hidden + i·hiddenStride; with
    /// <paramref name="fullLogits"/>, logit (i, t) is also written to fullLogits[i·logitsStride + t].
    /// </summary>
    public void Begin(float* hidden, int hiddenStride, int batch, float* fullLogits = null, int logitsStride = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batch, MaxBatch);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenStride, head.Columns);
        if (fullLogits != null) ArgumentOutOfRangeException.ThrowIfLessThan(logitsStride, head.Rows);
        this.hidden = hidden;
        this.hiddenStride = hiddenStride;
        logits = fullLogits;
        this.logitsStride = logitsStride;
        Batch = batch;
    }

    /// <summary>Computes and reduces chunks [start, end) (the pool's call).</summary>
    public void Execute(int worker, int start, int end)
    {
        if (hidden == null) throw new InvalidOperationException("Begin was not called");
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(worker, scratch.Length);
        for (int chunk = start; chunk < end; chunk++)
        {
            int first = chunk * ChunkRows, rows = Math.Min(ChunkRows, head.Rows - first);
            for (int m0 = 0; m0 < Batch; m0 += MatrixKernels.MaxBatchPerPass)
            {
                int count = Math.Min(MatrixKernels.MaxBatchPerPass, Batch - m0);
                float* output;
                int stride;
                if (logits != null)
                {
                    output = logits + (nint)m0 * logitsStride;
                    stride = logitsStride;
                }
                else
                {
                    // Offset so that row index `first` lands at the start of the scratch.
                    output = (float*)scratch[worker] - first;
                    stride = ChunkRows;
                }
                MatrixKernels.Multiply(Isa, head, hidden + (nint)m0 * hiddenStride, hiddenStride, count, output, stride, first, first + rows);
                for (int i = 0; i < count; i++) Reduce(m0 + i, chunk, output + (nint)i * stride + first, rows);
            }
        }
    }

    /// <summary>Merges the chunks, in vocabulary order, into each sequence's results.</summary>
    public void Finish()
    {
        for (int m = 0; m < Batch; m++)
        {
            int row = m * Chunks;
            float max = float.NegativeInfinity;
            for (int c = 0; c < Chunks; c++) max = Math.Max(max, chunkMax[row + c]);
            double total = 0;
            for (int c = 0; c < Chunks; c++)
                if (chunkSum[row + c] > 0f) total += chunkSum[row + c] * Math.Exp((double)chunkMax[row + c] - max);
            maxLogit[m] = max;
            logSumExp[m] = (float)(max + Math.Log(total));

            Span<int> ids = topIds.AsSpan(m * TopK, TopK);
            Span<float> values = topValues.AsSpan(m * TopK, TopK);
            int kept = 0;
            for (int c = 0; c < Chunks; c++)
            {
                int offset = (row + c) * TopK;
                for (int i = 0; i < chunkTopCount[row + c]; i++)
                    if (!Insert(ids, values, ref kept, chunkTopIds[offset + i], chunkTopValues[offset + i])) break;
            }
            topCount[m] = kept;
        }
        hidden = null;
        logits = null;
    }

    /// <summary>Begin, the pool's run over the chunks, Finish.</summary>
    public void Run(WorkerPool pool, float* hidden, int hiddenStride, int batch, float* fullLogits = null, int logitsStride = 0)
    {
        ArgumentNullException.ThrowIfNull(pool);
        Begin(hidden, hiddenStride, batch, fullLogits, logitsStride);
        pool.Run(this, Chunks);
        Finish();
    }

    /// <summary>
    /// <see cref="Run(WorkerPool, float*, int, int, float*, int)"/> for managed buffers: hidden [batch, Columns] and,
    /// when not empty, the full logits [batch, vocab].
    /// </summary>
    public void Run(WorkerPool pool, ReadOnlySpan<float> hidden, int batch, Span<float> fullLogits = default)
    {
        if (hidden.Length < (long)batch * head.Columns) throw new ArgumentException($"expected {batch} × {head.Columns} values", nameof(hidden));
        if (!fullLogits.IsEmpty && fullLogits.Length < (long)batch * head.Rows)
            throw new ArgumentException($"expected {batch} × {head.Rows} logits", nameof(fullLogits));
        fixed (float* h = hidden)
        fixed (float* l = fullLogits)
        {
            try
            {
                Run(pool, h, head.Columns, batch, fullLogits.IsEmpty ? null : l, head.Rows);
            }
            finally
            {
                this.hidden = null; // the pins end here, even when the run failed before Finish
                logits = null;
            }
        }
    }

    /// <summary>The whole selection on the calling thread; <paramref name="hidden"/> is [batch, Columns].</summary>
    public void Select(ReadOnlySpan<float> hidden, int batch)
    {
        if (hidden.Length < (long)batch * head.Columns) throw new ArgumentException($"expected {batch} × {head.Columns} values", nameof(hidden));
        fixed (float* h = hidden)
        {
            Begin(h, head.Columns, batch);
            Execute(0, 0, Chunks);
            Finish();
        }
    }

    /// <summary>As <see cref="Select(ReadOnlySpan{float}, int)"/>, also writing the logits [batch, vocab].</summary>
    public void Select(ReadOnlySpan<float> hidden, int batch, Span<float> fullLogits)
    {
        if (hidden.Length < (long)batch * head.Columns) throw new ArgumentException($"expected {batch} × {head.Columns} values", nameof(hidden));
        if (fullLogits.Length < (long)batch * head.Rows) throw new ArgumentException($"expected {batch} × {head.Rows} logits", nameof(fullLogits));
        fixed (float* h = hidden)
        fixed (float* l = fullLogits)
        {
            Begin(h, head.Columns, batch, l, head.Rows);
            Execute(0, 0, Chunks);
            Finish();
        }
    }

    public int ArgMax(int sequence) => TopIds(sequence)[0];
    public float MaxLogit(int sequence) => maxLogit[Checked(sequence)];
    /// <summary>log Σ e^logit over the vocabulary: log p(t) = logit(t) − this.</summary>
    public float LogSumExp(int sequence) => logSumExp[Checked(sequence)];
    /// <summary>The top ids, best first (ties: lower id first).</summary>
    public ReadOnlySpan<int> TopIds(int sequence) => topIds.AsSpan(Checked(sequence) * TopK, topCount[sequence]);
    public ReadOnlySpan<float> TopLogits(int sequence) => topValues.AsSpan(Checked(sequence) * TopK, topCount[sequence]);

    private int Checked(int sequence)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sequence, Batch);
        return sequence;
    }

    private void Reduce(int sequence, int chunk, float* row, int count)
    {
        int slot = sequence * Chunks + chunk;
        float max = VectorKernels.Max(Isa, row, count);
        chunkMax[slot] = max;
        chunkSum[slot] = float.IsNegativeInfinity(max) ? 0f : VectorKernels.SumExp(Isa, row, count, max);

        Span<int> ids = chunkTopIds.AsSpan(slot * TopK, TopK);
        Span<float> values = chunkTopValues.AsSpan(slot * TopK, TopK);
        int kept = 0;
        int first = chunk * ChunkRows;
        int i = 0;
        while (i < count)
        {
            // Once the list is full, skip whole vectors that cannot beat its last entry.
            if (kept == TopK && Isa == KernelIsa.Avx512 && i + 16 <= count
                && !Vector512.GreaterThanAny(Vector512.Load(row + i), Vector512.Create(values[kept - 1])))
            {
                i += 16;
                continue;
            }
            if (kept == TopK && Isa == KernelIsa.Avx2 && i + 8 <= count
                && !Vector256.GreaterThanAny(Vector256.Load(row + i), Vector256.Create(values[kept - 1])))
            {
                i += 8;
                continue;
            }
            Insert(ids, values, ref kept, first + i, row[i]);
            i++;
        }
        chunkTopCount[slot] = kept;
    }

    /// <summary>
    /// Inserts (id, value) into the list sorted by value descending, after any equal values (ids arrive ascending,
    /// so ties keep the lower id first). Returns false when the value cannot enter the full list; NaN never enters.
    /// </summary>
    private bool Insert(Span<int> ids, Span<float> values, ref int kept, int id, float value)
    {
        if (float.IsNaN(value)) return true;
        if (kept == TopK && !(value > values[kept - 1])) return false;
        int position = kept == TopK ? kept - 1 : kept;
        while (position > 0 && values[position - 1] < value)
        {
            values[position] = values[position - 1];
            ids[position] = ids[position - 1];
            position--;
        }
        values[position] = value;
        ids[position] = id;
        if (kept < TopK) kept++;
        return true;
    }

    private void Free()
    {
        for (int w = 0; w < scratch.Length; w++)
        {
            NativeMemory.AlignedFree((void*)scratch[w]);
            scratch[w] = 0;
        }
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }
}
