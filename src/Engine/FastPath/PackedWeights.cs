using System.Runtime.InteropServices;

namespace PdServe.Engine.FastPath;

/// <summary>
/// A weight matrix W [rows = out features, columns = in features], row-major as torch's Linear stores it, packed
/// once at load into 64-byte-aligned native memory for the decode kernels (y = x·Wᵀ + b).
/// <para>
/// Layout, made for streaming: rows are grouped in tiles of <see cref="TileRows"/> = 4 and each tile is stored as
/// consecutive blocks of <see cref="BlockColumns"/> = 16 columns, each block holding its 16 columns of the 4 rows
/// one row after another ([tile][block][row 0..3][16 columns]). A kernel walking one tile therefore reads one
/// sequential stream (one hardware-prefetcher stream, not four) and every 16-column slice is exactly one 512-bit
/// (f32), 256-bit (bf16) or 128-bit (int8) load per row, reused from registers for every input row of the batch;
/// one int8 block (4 rows × 16) is exactly one cache line. Columns are zero-padded to a multiple of 16 and rows
/// to a multiple of 4, so no kernel needs a masked weight load. The same layout serves every ISA and both int8
/// kernels, so a model packs once whatever path runs.
/// </para>
/// <para>
/// Int8: symmetric, one f32 scale per row and group of <see cref="GroupSize"/> input columns (a multiple of 16),
/// scale = max|w|/127 over the group and q = round-to-nearest-even(w/scale); the scales live apart from the
/// blocks ([tile][group][row 0..3]) so the blocks stay line-aligned.
/// </para>
/// </summary>
public sealed unsafe class PackedWeights : IDisposable
{
    public const int TileRows = 4;
    public const int BlockColumns = 16;
    public const int DefaultGroupSize = 64;
    private const int Alignment = 64;

    private byte* data;
    private float* scales;
    private float* bias;

    private PackedWeights(WeightFormat format, int rows, int columns, int groupSize, bool hasBias)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), "a weight matrix needs at least one row");
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), "a weight matrix needs at least one column");
        if (format == WeightFormat.Int8 && (groupSize < BlockColumns || groupSize % BlockColumns != 0))
            throw new ArgumentOutOfRangeException(nameof(groupSize), $"an int8 group size must be a positive multiple of {BlockColumns}");
        Format = format;
        Rows = rows;
        Columns = columns;
        GroupSize = format == WeightFormat.Int8 ? groupSize : 0;
        Blocks = (columns + BlockColumns - 1) / BlockColumns;
        Tiles = (rows + TileRows - 1) / TileRows;
        ElementBytes = format switch { WeightFormat.F32 => 4, WeightFormat.Bf16 => 2, _ => 1 };
        Groups = format == WeightFormat.Int8 ? (columns + groupSize - 1) / groupSize : 0;
        TileBytes = (nint)Blocks * TileRows * BlockColumns * ElementBytes;
        data = (byte*)Allocate((nuint)(TileBytes * Tiles));
        if (format == WeightFormat.Int8) scales = (float*)Allocate((nuint)Tiles * (nuint)Groups * TileRows * sizeof(float));
        if (hasBias) bias = (float*)Allocate((nuint)Tiles * TileRows * sizeof(float));
    }

    ~PackedWeights() => Free();

    public WeightFormat Format { get; }
    public int Rows { get; }
    public int Columns { get; }
    /// <summary>Input columns per int8 scale; 0 for the other formats.</summary>
    public int GroupSize { get; }
    public int Blocks { get; }
    public int Tiles { get; }
    public int Groups { get; }
    public int ElementBytes { get; }
    public bool HasBias => bias != null;
    /// <summary>The native bytes the kernels stream: the blocks, the int8 scales and the bias.</summary>
    public long SizeInBytes =>
        (long)TileBytes * Tiles + (long)Tiles * Groups * TileRows * sizeof(float) + (HasBias ? (long)Tiles * TileRows * sizeof(float) : 0);

    internal nint TileBytes { get; }
    internal nint Address => (nint)data;
    internal nint BlockBytes => (nint)TileRows * BlockColumns * ElementBytes;
    internal nint RowBytes => (nint)BlockColumns * ElementBytes;
    internal int GroupBlocks => GroupSize / BlockColumns;

    internal byte* TileData(int tile) => Live(data) + TileBytes * tile;
    internal float* TileScales(int tile) => Live(scales) + (nint)tile * Groups * TileRows;
    internal float* BiasData => bias;

    /// <summary>Packs f32 weights [rows, columns] (row-major) into <paramref name="format"/>, with an optional bias [rows].</summary>
    public static PackedWeights FromFloat32(ReadOnlySpan<float> weights, int rows, int columns, WeightFormat format,
        int groupSize = DefaultGroupSize, ReadOnlySpan<float> bias = default)
    {
        CheckSource(weights.Length, rows, columns, bias.Length);
        var packed = new PackedWeights(format, rows, columns, groupSize, !bias.IsEmpty);
        for (int row = 0; row < rows; row++) packed.PackRow(row, weights.Slice(row * columns, columns));
        packed.SetBias(bias);
        return packed;
    }

    /// <summary>
    /// Packs raw bf16 weights [rows, columns] (row-major, as a bf16 torch tensor holds them) into
    /// <paramref name="format"/>: bf16 is copied bit for bit; f32 and int8 start from the exactly widened values.
    /// </summary>
    public static PackedWeights FromBFloat16(ReadOnlySpan<ushort> weights, int rows, int columns, WeightFormat format,
        int groupSize = DefaultGroupSize, ReadOnlySpan<float> bias = default)
    {
        CheckSource(weights.Length, rows, columns, bias.Length);
        var packed = new PackedWeights(format, rows, columns, groupSize, !bias.IsEmpty);
        var widened = new float[columns]; // one row at a time: a vocabulary-sized matrix is never copied whole
        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<ushort> source = weights.Slice(row * columns, columns);
            if (format == WeightFormat.Bf16)
            {
                for (int c = 0; c < columns; c++) *(ushort*)packed.RowElement(row, c) = source[c];
                continue;
            }
            for (int c = 0; c < columns; c++) widened[c] = Bf16Bits.ToSingle(source[c]);
            packed.PackRow(row, widened);
        }
        packed.SetBias(bias);
        return packed;
    }

    /// <summary>
    /// Row <paramref name="row"/> as the kernels see it: the f32 values, the widened bf16 values or the dequantized
    /// int8 values (q · scale, rounded to f32 exactly as the kernels compute it).
    /// </summary>
    public void GetRow(int row, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        if (destination.Length < Columns) throw new ArgumentException($"the destination needs {Columns} elements", nameof(destination));
        for (int c = 0; c < Columns; c++)
        {
            byte* p = RowElement(row, c);
            destination[c] = Format switch
            {
                WeightFormat.F32 => *(float*)p,
                WeightFormat.Bf16 => Bf16Bits.ToSingle(*(ushort*)p),
                _ => *(sbyte*)p * Scale(row, c / GroupSize),
            };
        }
    }

    /// <summary>The bias of <paramref name="row"/>, 0 without one.</summary>
    public float Bias(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        return bias == null ? 0f : bias[row];
    }

    internal sbyte Quantized(int row, int column) => *(sbyte*)RowElement(row, column);

    internal float Scale(int row, int group) => TileScales(row / TileRows)[group * TileRows + row % TileRows];

    /// <summary>The address of (row, column) without the per-element tile arithmetic, for the packing loops.</summary>
    private byte* RowElement(int row, int column) =>
        TileData(row / TileRows) + RowBytes * (row % TileRows) + BlockBytes * (column / BlockColumns) + (nint)(column % BlockColumns) * ElementBytes;

    private void PackRow(int row, ReadOnlySpan<float> values)
    {
        switch (Format)
        {
            case WeightFormat.F32:
                for (int c = 0; c < Columns; c++) *(float*)RowElement(row, c) = values[c];
                break;
            case WeightFormat.Bf16:
                for (int c = 0; c < Columns; c++) *(ushort*)RowElement(row, c) = Bf16Bits.FromSingle(values[c]);
                break;
            default:
                float* rowScales = TileScales(row / TileRows) + row % TileRows;
                for (int group = 0; group < Groups; group++)
                {
                    int start = group * GroupSize, end = Math.Min(Columns, start + GroupSize);
                    float maxAbs = 0f;
                    for (int c = start; c < end; c++) maxAbs = Math.Max(maxAbs, Math.Abs(values[c]));
                    float scale = maxAbs / 127f;
                    rowScales[group * TileRows] = scale;
                    for (int c = start; c < end; c++)
                    {
                        // The quotient in double: w/scale must not round past 127 (or to a different integer) in f32.
                        double q = scale == 0f ? 0.0 : Math.Round(values[c] / (double)scale, MidpointRounding.ToEven);
                        *(sbyte*)RowElement(row, c) = (sbyte)Math.Clamp(q, -127.0, 127.0);
                    }
                }
                break;
        }
    }

    private void SetBias(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return;
        values.CopyTo(new Span<float>(bias, Rows));
    }

    private static void CheckSource(int length, int rows, int columns, int biasLength)
    {
        if ((long)rows * columns != length)
            throw new ArgumentException($"expected {rows} × {columns} = {(long)rows * columns} weights, got {length}");
        if (biasLength != 0 && biasLength != rows)
            throw new ArgumentException($"a bias needs {rows} elements (one a row), got {biasLength}");
    }

    private static void* Allocate(nuint bytes)
    {
        void* memory = NativeMemory.AlignedAlloc(bytes, Alignment);
        NativeMemory.Clear(memory, bytes); // padding rows and columns must be zeros: the kernels multiply them
        return memory;
    }

    private T* Live<T>(T* pointer) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(data == null, this);
        return pointer;
    }

    private void Free()
    {
        NativeMemory.AlignedFree(data);
        NativeMemory.AlignedFree(scales);
        NativeMemory.AlignedFree(bias);
        data = null;
        scales = null;
        bias = null;
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }
}
