namespace PdServe.Engine.FastPath;

/// <summary>
/// A reusable <see cref="IPoolWork"/> for one matrix product split by output rows: set the operands, then
/// <see cref="RunOn"/> (or pass it to <see cref="WorkerPool.Run"/> with <see cref="Rows"/> and
/// <see cref="PackedWeights.TileRows"/>). With <see cref="QuantizedInput"/> set, the int8 × int8 kernel runs
/// instead of the f32-activation one.
/// </summary>
public sealed unsafe class MatrixMultiplyWork : IPoolWork
{
    public KernelIsa Isa { get; set; } = KernelCapabilities.Best;
    public PackedWeights? Weights { get; set; }
    /// <summary>Input row i at Input + i · InputStride (unused with <see cref="QuantizedInput"/>).</summary>
    public float* Input { get; set; }
    public int InputStride { get; set; }
    public int Batch { get; set; }
    /// <summary>Output (i, n) at Output[i · OutputStride + n].</summary>
    public float* Output { get; set; }
    public int OutputStride { get; set; }
    /// <summary>Quantized activations for int8 weights; null for the f32-activation kernels.</summary>
    public Int8Activations? QuantizedInput { get; set; }

    public int Rows => Weights?.Rows ?? 0;

    /// <summary>Sets the operands of an f32-activation product (dense when the strides are left 0).</summary>
    public void Set(PackedWeights weights, float* input, int batch, float* output, int inputStride = 0, int outputStride = 0)
    {
        Weights = weights;
        Input = input;
        Batch = batch;
        Output = output;
        InputStride = inputStride == 0 ? weights.Columns : inputStride;
        OutputStride = outputStride == 0 ? weights.Rows : outputStride;
        QuantizedInput = null;
    }

    /// <summary>Sets the operands of an int8 × int8 product.</summary>
    public void SetQuantized(PackedWeights weights, Int8Activations input, float* output, int outputStride = 0)
    {
        Weights = weights;
        QuantizedInput = input;
        Batch = input.Batch;
        Output = output;
        OutputStride = outputStride == 0 ? weights.Rows : outputStride;
        Input = null;
    }

    /// <summary>Runs the product on <paramref name="pool"/>, split at tile boundaries.</summary>
    public void RunOn(WorkerPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        pool.Run(this, Rows, PackedWeights.TileRows);
    }

    /// <summary>y [batch, Rows] = x [batch, Columns] · Wᵀ on <paramref name="pool"/>, for callers holding managed buffers.</summary>
    public void RunOn(WorkerPool pool, PackedWeights weights, ReadOnlySpan<float> x, int batch, Span<float> y)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (x.Length < (long)batch * weights.Columns) throw new ArgumentException($"x needs {batch} × {weights.Columns} elements", nameof(x));
        if (y.Length < (long)batch * weights.Rows) throw new ArgumentException($"y needs {batch} × {weights.Rows} elements", nameof(y));
        fixed (float* px = x)
        fixed (float* py = y)
        {
            Set(weights, px, batch, py);
            try
            {
                RunOn(pool);
            }
            finally
            {
                Input = null; // the pins end here
                Output = null;
            }
        }
    }

    /// <summary>y [Batch, Rows] from int8 weights and quantized activations on <paramref name="pool"/>.</summary>
    public void RunQuantizedOn(WorkerPool pool, PackedWeights weights, Int8Activations x, Span<float> y)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(x);
        if (y.Length < (long)x.Batch * weights.Rows) throw new ArgumentException($"y needs {x.Batch} × {weights.Rows} elements", nameof(y));
        fixed (float* py = y)
        {
            SetQuantized(weights, x, py);
            try
            {
                RunOn(pool);
            }
            finally
            {
                Output = null;
            }
        }
    }

    public void Execute(int worker, int start, int end)
    {
        PackedWeights weights = Weights ?? throw new InvalidOperationException("no weights were set");
        if (QuantizedInput is { } quantized)
            MatrixKernels.MultiplyQuantized(Isa, weights, quantized, Output, OutputStride, start, end);
        else
            MatrixKernels.Multiply(Isa, weights, Input, InputStride, Batch, Output, OutputStride, start, end);
    }
}
