using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace PdServe.Engine.FastPath;

/// <summary>
/// Input rows quantized for <see cref="MatrixKernels.MultiplyQuantized(KernelIsa, PackedWeights, Int8Activations, float*, int, int, int)"/>:
/// symmetric int8 per row and group of columns (the weights' group size), q = round-to-nearest-even(x · 127/max|x|),
/// zero-padded to whole 16-column blocks. Allocated once for the largest batch and reused every step.
/// It also holds, per row, group and lane j (columns 4j … 4j+3 of each block), 128 · Σq: what the +128 offset of
/// the weights adds to the VNNI kernel's unsigned-by-signed dot product, removed again exactly.
/// </summary>
public sealed unsafe class Int8Activations : IDisposable
{
    private const int Lanes = 4;
    private sbyte* values;
    private float* scales;
    private int* corrections;

    public Int8Activations(int maxBatch, int columns, int groupSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        if (groupSize < PackedWeights.BlockColumns || groupSize % PackedWeights.BlockColumns != 0)
            throw new ArgumentOutOfRangeException(nameof(groupSize), $"a group size must be a positive multiple of {PackedWeights.BlockColumns}");
        MaxBatch = maxBatch;
        Columns = columns;
        GroupSize = groupSize;
        Groups = (columns + groupSize - 1) / groupSize;
        PaddedColumns = (columns + PackedWeights.BlockColumns - 1) / PackedWeights.BlockColumns * PackedWeights.BlockColumns;
        values = (sbyte*)NativeMemory.AlignedAlloc((nuint)maxBatch * (nuint)PaddedColumns, 64);
        scales = (float*)NativeMemory.AlignedAlloc((nuint)maxBatch * (nuint)Groups * sizeof(float), 64);
        corrections = (int*)NativeMemory.AlignedAlloc((nuint)maxBatch * (nuint)Groups * Lanes * sizeof(int), 64);
        NativeMemory.Clear(values, (nuint)maxBatch * (nuint)PaddedColumns);
    }

    ~Int8Activations() => Free();

    public int MaxBatch { get; }
    public int Columns { get; }
    public int GroupSize { get; }
    public int Groups { get; }
    public int PaddedColumns { get; }
    /// <summary>The rows quantized by the last <see cref="Quantize(KernelIsa, float*, int, int)"/>.</summary>
    public int Batch { get; private set; }

    internal sbyte* Row(int row) => Live(values) + (nint)row * PaddedColumns;
    internal float* RowScales(int row) => Live(scales) + (nint)row * Groups;
    internal int* RowCorrections(int row) => Live(corrections) + (nint)row * Groups * Lanes;
    internal sbyte Value(int row, int column) => Row(row)[column];
    internal float Scale(int row, int group) => RowScales(row)[group];

    /// <summary>
    /// Quantizes rows x[i · xStride …] for i &lt; <paramref name="batch"/>. The result does not depend on
    /// <paramref name="isa"/>.
    /// </summary>
    public void Quantize(KernelIsa isa, float* x, int xStride, int batch)
    {
        KernelCapabilities.Require(isa);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batch, MaxBatch);
        ArgumentOutOfRangeException.ThrowIfLessThan(xStride, Columns);
        for (int row = 0; row < batch; row++) QuantizeRow(isa, x + (nint)row * xStride, row);
        Batch = batch;
    }

    /// <summary>Quantizes <paramref name="batch"/> rows of <see cref="Columns"/> values each.</summary>
    public void Quantize(KernelIsa isa, ReadOnlySpan<float> x, int batch)
    {
        if (x.Length < (long)batch * Columns) throw new ArgumentException($"expected {batch} × {Columns} values", nameof(x));
        fixed (float* p = x) Quantize(isa, p, Columns, batch);
    }

    private void QuantizeRow(KernelIsa isa, float* x, int row)
    {
        sbyte* q = Row(row);
        float* rowScales = RowScales(row);
        int* rowCorrections = RowCorrections(row);
        for (int group = 0; group < Groups; group++)
        {
            int start = group * GroupSize, end = Math.Min(Columns, start + GroupSize);
            float maxAbs = MaxAbs(isa, x + start, end - start);
            rowScales[group] = maxAbs / 127f;
            // A multiply, not a divide, per element; the product can only exceed 127 by rounding, hence the clamp.
            // Vector rounding is IEEE round-half-even like MathF.Round, so every ISA gives the same q.
            float multiplier = maxAbs == 0f ? 0f : 127f / maxAbs;
            int c = start;
            if (isa != KernelIsa.Scalar)
            {
                Vector256<float> m = Vector256.Create(multiplier), limit = Vector256.Create(127f);
                for (; c + 8 <= end; c += 8)
                {
                    Vector256<int> rounded = Vector256.ConvertToInt32(
                        Vector256.Clamp(Vector256.Round(Vector256.Load(x + c) * m), -limit, limit));
                    for (int i = 0; i < 8; i++) q[c + i] = (sbyte)rounded[i];
                }
            }
            for (; c < end; c++) q[c] = (sbyte)Math.Clamp(MathF.Round(x[c] * multiplier), -127f, 127f);
        }
        for (int c = Columns; c < PaddedColumns; c++) q[c] = 0;

        int groupBlocks = GroupSize / PackedWeights.BlockColumns, blocks = PaddedColumns / PackedWeights.BlockColumns;
        for (int group = 0; group < Groups; group++)
        {
            int* lanes = rowCorrections + group * Lanes;
            for (int lane = 0; lane < Lanes; lane++) lanes[lane] = 0;
            for (int block = group * groupBlocks; block < Math.Min(blocks, (group + 1) * groupBlocks); block++)
            {
                sbyte* b = q + block * PackedWeights.BlockColumns;
                for (int lane = 0; lane < Lanes; lane++)
                    lanes[lane] += 128 * (b[4 * lane] + b[4 * lane + 1] + b[4 * lane + 2] + b[4 * lane + 3]);
            }
        }
    }

    private static float MaxAbs(KernelIsa isa, float* x, int count)
    {
        int i = 0;
        float max = 0f;
        if (isa != KernelIsa.Scalar && count >= 8)
        {
            Vector256<float> m = Vector256<float>.Zero;
            for (; i + 8 <= count; i += 8) m = Vector256.Max(m, Vector256.Abs(Vector256.Load(x + i)));
            for (int lane = 0; lane < 8; lane++) max = Math.Max(max, m[lane]);
        }
        for (; i < count; i++) max = Math.Max(max, Math.Abs(x[i]));
        return max;
    }

    private T* Live<T>(T* pointer) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(values == null, this);
        return pointer;
    }

    private void Free()
    {
        NativeMemory.AlignedFree(values);
        NativeMemory.AlignedFree(scales);
        NativeMemory.AlignedFree(corrections);
        values = null;
        scales = null;
        corrections = null;
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }
}
