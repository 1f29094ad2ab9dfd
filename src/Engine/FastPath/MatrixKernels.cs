using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PdServe.Engine.FastPath;

/// <summary>
/// y[batch, rows] = x[batch, columns] · Wᵀ (+ bias) against <see cref="PackedWeights"/>, for the output rows
/// [rowStart, rowEnd) only, so a <see cref="WorkerPool"/> splits a matrix by rows (ideally at multiples of
/// <see cref="PackedWeights.TileRows"/>; other splits are correct, the straddled tile is just computed twice).
/// <para>
/// One sequence is a GEMV; a batch is a register-blocked small GEMM: for each 4-row weight tile the kernel walks
/// the columns in panels that stay in L1 and, inside a panel, runs every group of up to 4 (AVX-512) or 2 (AVX2)
/// input rows over it, so each weight byte comes from memory once per call whatever the batch. Every output is
/// one accumulator chain over the columns in a fixed order, independent of the batch size, of the row range and of
/// the other rows: a row's result is bitwise the same alone or in any batch, on any number of workers.
/// </para>
/// </summary>
// No zeroing of stackalloc buffers: accumulators, tail copies and row pointers are written before they are read,
// and zeroing ~5 KiB of stack per call would be pure waste.
[SkipLocalsInit]
public static unsafe class MatrixKernels
{
    /// <summary>Input rows one pass handles; larger batches are processed in passes of this many.</summary>
    public const int MaxBatchPerPass = 16;

    /// <summary>Columns of a panel: 512 columns of 4 rows is 8 KiB of f32 weights, comfortably inside L1.</summary>
    private const int PanelBlocks = 32;

    /// <summary>y = x · Wᵀ (+ bias) for all rows; x is [batch, Columns], y is [batch, Rows], both dense.</summary>
    public static void Multiply(KernelIsa isa, PackedWeights weights, ReadOnlySpan<float> x, int batch, Span<float> y) =>
        Multiply(isa, weights, x, batch, y, 0, weights.Rows);

    /// <summary>Output rows [rowStart, rowEnd) of y = x · Wᵀ (+ bias); x is [batch, Columns], y is [batch, Rows], both dense.</summary>
    public static void Multiply(KernelIsa isa, PackedWeights weights, ReadOnlySpan<float> x, int batch, Span<float> y, int rowStart, int rowEnd)
    {
        ArgumentNullException.ThrowIfNull(weights);
        CheckDense(x.Length, y.Length, batch, weights);
        fixed (float* px = x)
        fixed (float* py = y)
            Multiply(isa, weights, px, weights.Columns, batch, py, weights.Rows, rowStart, rowEnd);
    }

    /// <summary>
    /// Output rows [rowStart, rowEnd) of y = x · Wᵀ (+ bias) with strided rows: input row i at x[i·xStride …],
    /// output (i, n) at y[i·yStride + n].
    /// </summary>
    public static void Multiply(KernelIsa isa, PackedWeights weights, ReadOnlySpan<float> x, int xStride, int batch, Span<float> y, int yStride,
        int rowStart, int rowEnd)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (x.Length < (long)(batch - 1) * xStride + weights.Columns)
            throw new ArgumentException($"x needs {batch} rows of stride {xStride}", nameof(x));
        if (y.Length < (long)(batch - 1) * yStride + rowEnd) throw new ArgumentException($"y needs {batch} rows of stride {yStride}", nameof(y));
        fixed (float* px = x)
        fixed (float* py = y)
            Multiply(isa, weights, px, xStride, batch, py, yStride, rowStart, rowEnd);
    }

    /// <summary>
    /// Output rows [rowStart, rowEnd) of y = x · Wᵀ (+ bias): input row i at x + i·xStride (Columns values),
    /// output (i, n) at y[i·yStride + n]. The caller keeps both buffers alive and pinned.
    /// </summary>
    public static void Multiply(KernelIsa isa, PackedWeights weights, float* x, int xStride, int batch, float* y, int yStride,
        int rowStart, int rowEnd)
    {
        ArgumentNullException.ThrowIfNull(weights);
        KernelCapabilities.Require(isa);
        CheckShape(weights, xStride, weights.Columns, batch, yStride, rowStart, rowEnd);
        if (rowStart == rowEnd) return;
        switch (weights.Format)
        {
            case WeightFormat.F32:
                Dispatch<BlockFormat.F32>(isa, weights, x, xStride, batch, y, yStride, rowStart, rowEnd);
                break;
            case WeightFormat.Bf16:
                Dispatch<BlockFormat.Bf16>(isa, weights, x, xStride, batch, y, yStride, rowStart, rowEnd);
                break;
            default:
                Dispatch<BlockFormat.Int8>(isa, weights, x, xStride, batch, y, yStride, rowStart, rowEnd);
                break;
        }
    }

    /// <summary>
    /// Int8 weights against int8-quantized activations (<paramref name="x"/>, quantized with the weights' group
    /// size): exact integer dot products per group (AVX-VNNI when the CPU has it and <paramref name="isa"/> is not
    /// Scalar, otherwise scalar integers), scaled into f32. Output rows [rowStart, rowEnd) of y, (i, n) at
    /// y[i·yStride + n].
    /// </summary>
    public static void MultiplyQuantized(KernelIsa isa, PackedWeights weights, Int8Activations x, float* y, int yStride, int rowStart, int rowEnd)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(x);
        KernelCapabilities.Require(isa);
        if (weights.Format != WeightFormat.Int8) throw new ArgumentException("quantized activations need int8 weights", nameof(weights));
        if (x.Columns != weights.Columns || x.GroupSize != weights.GroupSize)
            throw new ArgumentException($"activations of {x.Columns} columns in groups of {x.GroupSize} do not fit weights of " +
                                        $"{weights.Columns} columns in groups of {weights.GroupSize}", nameof(x));
        if (x.Batch < 1) throw new ArgumentException("the activations have not been quantized", nameof(x));
        CheckShape(weights, weights.Columns, weights.Columns, x.Batch, yStride, rowStart, rowEnd);
        if (rowStart == rowEnd) return;
        if (isa != KernelIsa.Scalar && KernelCapabilities.HasAvxVnni)
            QuantizedVnni(isa, weights, x, y, yStride, rowStart, rowEnd);
        else
            QuantizedScalar(weights, x, y, yStride, rowStart, rowEnd);
    }

    /// <summary>All rows of y [Batch, Rows] (dense) from quantized activations.</summary>
    public static void MultiplyQuantized(KernelIsa isa, PackedWeights weights, Int8Activations x, Span<float> y)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(x);
        if (y.Length < (long)x.Batch * weights.Rows) throw new ArgumentException($"y needs {x.Batch} × {weights.Rows} elements", nameof(y));
        fixed (float* py = y) MultiplyQuantized(isa, weights, x, py, weights.Rows, 0, weights.Rows);
    }

    private static void Dispatch<TFormat>(KernelIsa isa, PackedWeights weights, float* x, int xStride, int batch, float* y, int yStride,
        int rowStart, int rowEnd)
        where TFormat : struct, BlockFormat.IFormat
    {
        for (int first = 0; first < batch; first += MaxBatchPerPass)
        {
            int count = Math.Min(MaxBatchPerPass, batch - first);
            float* xPass = x + (nint)first * xStride, yPass = y + (nint)first * yStride;
            switch (isa)
            {
                case KernelIsa.Avx512:
                    TiledAvx512<TFormat>(weights, xPass, xStride, count, yPass, yStride, rowStart, rowEnd);
                    break;
                case KernelIsa.Avx2:
                    TiledAvx2<TFormat>(weights, xPass, xStride, count, yPass, yStride, rowStart, rowEnd);
                    break;
                default:
                    Scalar<TFormat>(weights, xPass, xStride, count, yPass, yStride, rowStart, rowEnd);
                    break;
            }
        }
    }

    private static void TiledAvx512<TFormat>(PackedWeights weights, float* x, int xStride, int batch, float* y, int yStride,
        int rowStart, int rowEnd)
        where TFormat : struct, BlockFormat.IFormat
    {
        int fullBlocks = weights.Columns / PackedWeights.BlockColumns;
        int tail = weights.Columns % PackedWeights.BlockColumns;
        int groupBlocks = Math.Max(1, weights.GroupBlocks);
        int panel = Panel(batch, Avx512Tile.MaxWidth, fullBlocks, groupBlocks);
        float* tailRows = stackalloc float[MaxBatchPerPass * PackedWeights.BlockColumns];
        if (tail > 0) CopyTails(x, xStride, batch, fullBlocks, tail, tailRows);
        float** rows = stackalloc float*[Avx512Tile.MaxWidth];
        Vector512<float>* acc = stackalloc Vector512<float>[MaxBatchPerPass * PackedWeights.TileRows];

        for (int tile = rowStart / PackedWeights.TileRows; tile * PackedWeights.TileRows < rowEnd; tile++)
        {
            byte* w = weights.TileData(tile);
            float* scales = weights.TileScales(tile);
            for (int i = 0; i < batch * PackedWeights.TileRows; i++) acc[i] = Vector512<float>.Zero;
            for (int first = 0; first < fullBlocks; first += panel)
            {
                int blocks = Math.Min(panel, fullBlocks - first);
                for (int m = 0; m < batch; m += Avx512Tile.MaxWidth)
                {
                    int width = Math.Min(Avx512Tile.MaxWidth, batch - m);
                    for (int i = 0; i < width; i++) rows[i] = x + (nint)(m + i) * xStride + (nint)first * PackedWeights.BlockColumns;
                    Avx512Group<TFormat>(width, w + weights.BlockBytes * first, scales, groupBlocks, first, blocks, rows,
                        acc + m * PackedWeights.TileRows);
                }
            }
            if (tail > 0)
            {
                // The partial last block reads zero-padded copies of the inputs: the weights' padding is zero too.
                for (int m = 0; m < batch; m += Avx512Tile.MaxWidth)
                {
                    int width = Math.Min(Avx512Tile.MaxWidth, batch - m);
                    for (int i = 0; i < width; i++) rows[i] = tailRows + (m + i) * PackedWeights.BlockColumns;
                    Avx512Group<TFormat>(width, w + weights.BlockBytes * fullBlocks, scales, groupBlocks, fullBlocks, 1, rows,
                        acc + m * PackedWeights.TileRows);
                }
            }
            for (int r = 0; r < PackedWeights.TileRows; r++)
            {
                int n = tile * PackedWeights.TileRows + r;
                if (n < rowStart || n >= rowEnd) continue;
                for (int m = 0; m < batch; m++)
                    y[(nint)m * yStride + n] = WithBias(weights, n, Vector512.Sum(acc[m * PackedWeights.TileRows + r]));
            }
        }
    }

    private static void Avx512Group<TFormat>(int width, byte* w, float* scales, int groupBlocks, int first, int blocks, float** rows,
        Vector512<float>* acc)
        where TFormat : struct, BlockFormat.IFormat
    {
        switch (width)
        {
            case 1:
                Avx512Tile.Accumulate<TFormat, BatchWidth.OneRow>(w, scales, groupBlocks, first, blocks, rows, acc);
                break;
            case 2:
                Avx512Tile.Accumulate<TFormat, BatchWidth.TwoRows>(w, scales, groupBlocks, first, blocks, rows, acc);
                break;
            case 3:
                Avx512Tile.Accumulate<TFormat, BatchWidth.ThreeRows>(w, scales, groupBlocks, first, blocks, rows, acc);
                break;
            default:
                Avx512Tile.Accumulate<TFormat, BatchWidth.FourRows>(w, scales, groupBlocks, first, blocks, rows, acc);
                break;
        }
    }

    private static void TiledAvx2<TFormat>(PackedWeights weights, float* x, int xStride, int batch, float* y, int yStride,
        int rowStart, int rowEnd)
        where TFormat : struct, BlockFormat.IFormat
    {
        int fullBlocks = weights.Columns / PackedWeights.BlockColumns;
        int tail = weights.Columns % PackedWeights.BlockColumns;
        int groupBlocks = Math.Max(1, weights.GroupBlocks);
        int panel = Panel(batch, Avx2Tile.MaxWidth, fullBlocks, groupBlocks);
        float* tailRows = stackalloc float[MaxBatchPerPass * PackedWeights.BlockColumns];
        if (tail > 0) CopyTails(x, xStride, batch, fullBlocks, tail, tailRows);
        float** rows = stackalloc float*[Avx2Tile.MaxWidth];
        Vector256<float>* acc = stackalloc Vector256<float>[MaxBatchPerPass * PackedWeights.TileRows];

        for (int tile = rowStart / PackedWeights.TileRows; tile * PackedWeights.TileRows < rowEnd; tile++)
        {
            byte* w = weights.TileData(tile);
            float* scales = weights.TileScales(tile);
            for (int i = 0; i < batch * PackedWeights.TileRows; i++) acc[i] = Vector256<float>.Zero;
            for (int first = 0; first < fullBlocks; first += panel)
            {
                int blocks = Math.Min(panel, fullBlocks - first);
                for (int m = 0; m < batch; m += Avx2Tile.MaxWidth)
                {
                    int width = Math.Min(Avx2Tile.MaxWidth, batch - m);
                    for (int i = 0; i < width; i++) rows[i] = x + (nint)(m + i) * xStride + (nint)first * PackedWeights.BlockColumns;
                    Avx2Group<TFormat>(width, w + weights.BlockBytes * first, scales, groupBlocks, first, blocks, rows,
                        acc + m * PackedWeights.TileRows);
                }
            }
            if (tail > 0)
            {
                for (int m = 0; m < batch; m += Avx2Tile.MaxWidth)
                {
                    int width = Math.Min(Avx2Tile.MaxWidth, batch - m);
                    for (int i = 0; i < width; i++) rows[i] = tailRows + (m + i) * PackedWeights.BlockColumns;
                    Avx2Group<TFormat>(width, w + weights.BlockBytes * fullBlocks, scales, groupBlocks, fullBlocks, 1, rows,
                        acc + m * PackedWeights.TileRows);
                }
            }
            for (int r = 0; r < PackedWeights.TileRows; r++)
            {
                int n = tile * PackedWeights.TileRows + r;
                if (n < rowStart || n >= rowEnd) continue;
                for (int m = 0; m < batch; m++)
                    y[(nint)m * yStride + n] = WithBias(weights, n, Vector256.Sum(acc[m * PackedWeights.TileRows + r]));
            }
        }
    }

    private static void Avx2Group<TFormat>(int width, byte* w, float* scales, int groupBlocks, int first, int blocks, float** rows,
        Vector256<float>* acc)
        where TFormat : struct, BlockFormat.IFormat
    {
        if (width == 1)
            Avx2Tile.Accumulate<TFormat, BatchWidth.OneRow>(w, scales, groupBlocks, first, blocks, rows, acc);
        else
            Avx2Tile.Accumulate<TFormat, BatchWidth.TwoRows>(w, scales, groupBlocks, first, blocks, rows, acc);
    }

    /// <summary>The reference path: one product and one sum per element, columns in order.</summary>
    private static void Scalar<TFormat>(PackedWeights weights, float* x, int xStride, int batch, float* y, int yStride, int rowStart, int rowEnd)
        where TFormat : struct, BlockFormat.IFormat
    {
        int columns = weights.Columns;
        for (int n = rowStart; n < rowEnd; n++)
        {
            int tile = n / PackedWeights.TileRows, r = n % PackedWeights.TileRows;
            byte* row = weights.TileData(tile) + weights.RowBytes * r;
            float* scales = weights.TileScales(tile) + r;
            for (int m = 0; m < batch; m++)
            {
                float* input = x + (nint)m * xStride;
                float sum = 0f;
                for (int k = 0; k < columns; k++)
                {
                    float scale = TFormat.HasScales ? scales[k / weights.GroupSize * PackedWeights.TileRows] : 1f;
                    byte* block = row + weights.BlockBytes * (k / PackedWeights.BlockColumns);
                    sum += TFormat.LoadScalar(block, k % PackedWeights.BlockColumns, scale) * input[k];
                }
                y[(nint)m * yStride + n] = WithBias(weights, n, sum);
            }
        }
    }

    private static void QuantizedVnni(KernelIsa isa, PackedWeights weights, Int8Activations x, float* y, int yStride, int rowStart, int rowEnd)
    {
        // 4 rows at a time needs 16 ymm accumulators, which only EVEX (AVX-512) machines have registers for.
        int maxWidth = isa == KernelIsa.Avx512 ? VnniTile.MaxWidth : 2;
        int groupBlocks = weights.GroupBlocks;
        int groups = weights.Groups;
        int batch = x.Batch;
        int panelGroups = batch <= maxWidth ? groups : Math.Max(1, PanelBlocks / groupBlocks);
        sbyte** q = stackalloc sbyte*[VnniTile.MaxWidth];
        float** s = stackalloc float*[VnniTile.MaxWidth];
        int** c = stackalloc int*[VnniTile.MaxWidth];
        Vector256<float>* acc = stackalloc Vector256<float>[MaxBatchPerPass * 2];

        for (int first = 0; first < batch; first += MaxBatchPerPass)
        {
            int count = Math.Min(MaxBatchPerPass, batch - first);
            for (int tile = rowStart / PackedWeights.TileRows; tile * PackedWeights.TileRows < rowEnd; tile++)
            {
                byte* w = weights.TileData(tile);
                float* scales = weights.TileScales(tile);
                for (int i = 0; i < count * 2; i++) acc[i] = Vector256<float>.Zero;
                for (int g0 = 0; g0 < groups; g0 += panelGroups)
                {
                    int span = Math.Min(panelGroups, groups - g0);
                    for (int m = 0; m < count; m += maxWidth)
                    {
                        int width = Math.Min(maxWidth, count - m);
                        for (int i = 0; i < width; i++)
                        {
                            int row = first + m + i;
                            q[i] = x.Row(row);
                            s[i] = x.RowScales(row);
                            c[i] = x.RowCorrections(row);
                        }
                        Vector256<float>* a = acc + m * 2;
                        switch (width)
                        {
                            case 1:
                                VnniTile.Accumulate<BatchWidth.OneRow>(w, scales, groupBlocks, weights.Blocks, g0, span, q, s, c, a);
                                break;
                            case 2:
                                VnniTile.Accumulate<BatchWidth.TwoRows>(w, scales, groupBlocks, weights.Blocks, g0, span, q, s, c, a);
                                break;
                            case 3:
                                VnniTile.Accumulate<BatchWidth.ThreeRows>(w, scales, groupBlocks, weights.Blocks, g0, span, q, s, c, a);
                                break;
                            default:
                                VnniTile.Accumulate<BatchWidth.FourRows>(w, scales, groupBlocks, weights.Blocks, g0, span, q, s, c, a);
                                break;
                        }
                    }
                }
                for (int r = 0; r < PackedWeights.TileRows; r++)
                {
                    int n = tile * PackedWeights.TileRows + r;
                    if (n < rowStart || n >= rowEnd) continue;
                    for (int m = 0; m < count; m++)
                    {
                        Vector256<float> lanes = acc[m * 2 + r / 2];
                        float sum = Vector128.Sum(r % 2 == 0 ? lanes.GetLower() : lanes.GetUpper());
                        y[(nint)(first + m) * yStride + n] = WithBias(weights, n, sum);
                    }
                }
            }
        }
    }

    /// <summary>The same integer dot products as the VNNI kernel, one group at a time, for CPUs without it.</summary>
    private static void QuantizedScalar(PackedWeights weights, Int8Activations x, float* y, int yStride, int rowStart, int rowEnd)
    {
        int columns = weights.Columns, groupSize = weights.GroupSize;
        for (int n = rowStart; n < rowEnd; n++)
        {
            int tile = n / PackedWeights.TileRows, r = n % PackedWeights.TileRows;
            byte* row = weights.TileData(tile) + weights.RowBytes * r;
            float* scales = weights.TileScales(tile) + r;
            for (int m = 0; m < x.Batch; m++)
            {
                sbyte* q = x.Row(m);
                float* inputScales = x.RowScales(m);
                float sum = 0f;
                for (int g = 0; g < weights.Groups; g++)
                {
                    int dot = 0;
                    for (int k = g * groupSize; k < Math.Min(columns, (g + 1) * groupSize); k++)
                    {
                        sbyte* block = (sbyte*)(row + weights.BlockBytes * (k / PackedWeights.BlockColumns));
                        dot += block[k % PackedWeights.BlockColumns] * q[k];
                    }
                    sum += dot * (scales[g * PackedWeights.TileRows] * inputScales[g]);
                }
                y[(nint)m * yStride + n] = WithBias(weights, n, sum);
            }
        }
    }

    /// <summary>
    /// The blocks a panel spans: all of them when one pass of the micro-kernel covers the batch, else an L1-sized
    /// run of whole groups.
    /// </summary>
    private static int Panel(int batch, int maxWidth, int fullBlocks, int groupBlocks) =>
        batch <= maxWidth ? Math.Max(1, fullBlocks) : Math.Max(groupBlocks, PanelBlocks / groupBlocks * groupBlocks);

    private static void CopyTails(float* x, int xStride, int batch, int fullBlocks, int tail, float* destination)
    {
        for (int m = 0; m < batch; m++)
        {
            float* source = x + (nint)m * xStride + (nint)fullBlocks * PackedWeights.BlockColumns;
            float* row = destination + m * PackedWeights.BlockColumns;
            for (int i = 0; i < PackedWeights.BlockColumns; i++) row[i] = i < tail ? source[i] : 0f;
        }
    }

    private static float WithBias(PackedWeights weights, int row, float sum) =>
        weights.BiasData == null ? sum : sum + weights.BiasData[row];

    private static void CheckShape(PackedWeights weights, int xStride, int columns, int batch, int yStride, int rowStart, int rowEnd)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(xStride, columns);
        ArgumentOutOfRangeException.ThrowIfLessThan(yStride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rowStart);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rowEnd, weights.Rows);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rowStart, rowEnd);
        if (batch > 1 && yStride < rowEnd - rowStart) throw new ArgumentOutOfRangeException(nameof(yStride), "output rows would overlap");
    }

    private static void CheckDense(int xLength, int yLength, int batch, PackedWeights weights)
    {
        if (xLength < (long)batch * weights.Columns) throw new ArgumentException($"x needs {batch} × {weights.Columns} elements");
        if (yLength < (long)batch * weights.Rows) throw new ArgumentException($"y needs {batch} × {weights.Rows} elements");
    }
}
