using System.Diagnostics;
using System.Text.Json.Serialization;
using TorchSharp;

namespace PdServe.Benchmarking;

/// <summary>Sizes and repetition counts for <see cref="MachineCeilings.Measure"/>. The defaults are the real benchmark.</summary>
public sealed record MachineCeilingsOptions
{
    /// <summary>Bytes in each of the source and destination buffers of the copy (fp32).</summary>
    public long CopyBytes { get; init; } = 256L << 20;

    /// <summary>Prefill-like GEMM [M x K] @ [K x N].</summary>
    public int PrefillM { get; init; } = 512;
    public int PrefillK { get; init; } = 576;
    public int PrefillN { get; init; } = 1536;

    /// <summary>Side of the square GEMM; 0 skips it.</summary>
    public int SquareSize { get; init; } = 2048;

    /// <summary>Decode-like GEMV: x[1 x K] times a weight stored as [N x K] (nn.Linear layout), i.e. x @ Wᵀ.</summary>
    public int GemvK { get; init; } = 576;
    public int GemvN { get; init; } = 49152;

    /// <summary>Timed repetitions of each measurement; the best (fastest) one is reported.</summary>
    public int Repetitions { get; init; } = 5;

    /// <summary>Each repetition repeats the operation until at least this long has passed (0: once).</summary>
    public double MinSecondsPerRepetition { get; init; } = 0.2;

    public static MachineCeilingsOptions Default { get; } = new();

    /// <summary>Small sizes for tests: runs in well under a second.</summary>
    public static MachineCeilingsOptions Tiny { get; } = new()
    {
        CopyBytes = 1L << 20,
        PrefillM = 8, PrefillK = 16, PrefillN = 32,
        SquareSize = 32,
        GemvK = 16, GemvN = 256,
        Repetitions = 2,
        MinSecondsPerRepetition = 0,
    };

    internal void Validate()
    {
        if (CopyBytes < 4) throw new ArgumentOutOfRangeException(nameof(CopyBytes), CopyBytes, "must be at least 4 bytes");
        if (PrefillM < 1 || PrefillK < 1 || PrefillN < 1) throw new ArgumentException("prefill GEMM dimensions must be positive");
        if (SquareSize < 0) throw new ArgumentOutOfRangeException(nameof(SquareSize), SquareSize, "must be >= 0");
        if (GemvK < 1 || GemvN < 1) throw new ArgumentException("GEMV dimensions must be positive");
        if (Repetitions < 1) throw new ArgumentOutOfRangeException(nameof(Repetitions), Repetitions, "must be >= 1");
        if (MinSecondsPerRepetition < 0 || !double.IsFinite(MinSecondsPerRepetition))
            throw new ArgumentOutOfRangeException(nameof(MinSecondsPerRepetition), MinSecondsPerRepetition, "must be >= 0");
    }
}

/// <summary>One row of the ceilings table.</summary>
public sealed record CeilingMetric(string Name, double Value, string Unit, string Detail);

/// <summary>
/// What this machine can do at best, with the torch thread count in force. GB = 10⁹ bytes, GFLOP = 10⁹ floating-point
/// operations (a multiply-add counts as 2). Each figure is the best of <see cref="Repetitions"/> timed repetitions.
/// </summary>
public sealed record MachineCeilingsResult(
    int Threads,
    int Repetitions,
    /// <summary>dst.copy_(src) of fp32 buffers, counting bytes read + bytes written (2 x buffer size per copy).</summary>
    double MemoryCopyGBps,
    long MemoryCopyBufferBytes,
    /// <summary>src.sum() over the same fp32 buffer: bytes read per second.</summary>
    double MemoryReadGBps,
    double Fp32GemmGflops,
    string Fp32GemmShape,
    double Bf16GemmGflops,
    string Bf16GemmShape,
    /// <summary>Weight bytes streamed per second by an fp32 GEMV, best layout: the decode-at-batch-1 ceiling.</summary>
    double Fp32GemvGBps,
    /// <summary>x @ Wᵀ with W stored [N x K] (nn.Linear / F.linear layout, what checkpoints hold).</summary>
    double Fp32GemvLinearLayoutGBps,
    /// <summary>x @ W with W stored [K x N] (weights pre-transposed).</summary>
    double Fp32GemvTransposedLayoutGBps,
    string Fp32GemvShape)
{
    [JsonIgnore]
    public IReadOnlyList<CeilingMetric> Metrics =>
    [
        new("memory bandwidth (copy)", MemoryCopyGBps, "GB/s",
            $"fp32 copy_, {FormatBytes(MemoryCopyBufferBytes)}, read+write bytes"),
        new("memory bandwidth (read)", MemoryReadGBps, "GB/s",
            $"fp32 sum(), {FormatBytes(MemoryCopyBufferBytes)}"),
        new("fp32 GEMM", Fp32GemmGflops, "GFLOP/s", $"best MxKxN of {Fp32GemmShape}"),
        new("bf16 GEMM", Bf16GemmGflops, "GFLOP/s", $"best MxKxN of {Bf16GemmShape}"),
        new("fp32 GEMV, W[N,K] (Linear)", Fp32GemvLinearLayoutGBps, "GB/s", $"x @ Wᵀ, {Fp32GemvShape}, weight bytes"),
        new("fp32 GEMV, W[K,N]", Fp32GemvTransposedLayoutGBps, "GB/s", $"x @ W, {Fp32GemvShape}, weight bytes"),
    ];

    internal static string FormatBytes(long bytes) =>
        bytes >= 1L << 20 && bytes % (1L << 20) == 0 ? $"{bytes >> 20} MiB"
        : bytes >= 1L << 10 && bytes % (1L << 10) == 0 ? $"{bytes >> 10} KiB"
        : $"{bytes} B";
}

/// <summary>
/// Measures this machine's ceilings with TorchSharp on CPU: memory bandwidth, fp32/bf16 GEMM throughput and fp32 GEMV
/// weight-streaming bandwidth. Uses whatever <c>torch.set_num_threads</c> the caller set. Buffers are allocated and
/// touched once (first touch of fresh memory is slow), then reused for every timed repetition.
/// </summary>
public static class MachineCeilings
{
    /// <param name="progress">Fraction of the measurements done, 0..1.</param>
    public static MachineCeilingsResult Measure(MachineCeilingsOptions? options = null, IProgress<double>? progress = null)
    {
        options ??= MachineCeilingsOptions.Default;
        options.Validate();
        using var noGrad = torch.no_grad();
        const int stages = 4; // memory, fp32 GEMM, bf16 GEMM, GEMV
        progress?.Report(0);

        var (copyGBps, readGBps, copyBufferBytes) = MeasureMemory(options);
        progress?.Report(1.0 / stages);

        var gemmShapes = new List<(long M, long K, long N)> { (options.PrefillM, options.PrefillK, options.PrefillN) };
        if (options.SquareSize > 0)
            gemmShapes.Add((options.SquareSize, options.SquareSize, options.SquareSize));

        var (fp32Gflops, fp32Shape) = BestGemm(options, gemmShapes, torch.ScalarType.Float32);
        progress?.Report(2.0 / stages);
        var (bf16Gflops, bf16Shape) = BestGemm(options, gemmShapes, torch.ScalarType.BFloat16);
        progress?.Report(3.0 / stages);
        var (linearGBps, transposedGBps, gemvShape) = MeasureGemv(options);
        progress?.Report(1.0);

        return new MachineCeilingsResult(
            Threads: torch.get_num_threads(),
            Repetitions: options.Repetitions,
            MemoryCopyGBps: copyGBps,
            MemoryCopyBufferBytes: copyBufferBytes,
            MemoryReadGBps: readGBps,
            Fp32GemmGflops: fp32Gflops,
            Fp32GemmShape: fp32Shape,
            Bf16GemmGflops: bf16Gflops,
            Bf16GemmShape: bf16Shape,
            Fp32GemvGBps: Math.Max(linearGBps, transposedGBps),
            Fp32GemvLinearLayoutGBps: linearGBps,
            Fp32GemvTransposedLayoutGBps: transposedGBps,
            Fp32GemvShape: gemvShape);
    }

    private static (double CopyGBps, double ReadGBps, long BufferBytes) MeasureMemory(MachineCeilingsOptions o)
    {
        long elements = o.CopyBytes / sizeof(float);
        using var src = torch.empty(elements, torch.ScalarType.Float32);
        using var dst = torch.empty(elements, torch.ScalarType.Float32);
        src.fill_(1.0f); // touch every page of both buffers before timing
        dst.fill_(0.0f);
        long bufferBytes = elements * sizeof(float);
        double copySeconds = BestSecondsPerOp(o, () => dst.copy_(src));
        double readSeconds = BestSecondsPerOp(o, () => src.sum());
        return (2.0 * bufferBytes / copySeconds / 1e9, bufferBytes / readSeconds / 1e9, bufferBytes);
    }

    private static (double Gflops, string Shapes) BestGemm(
        MachineCeilingsOptions o, IReadOnlyList<(long M, long K, long N)> shapes, torch.ScalarType dtype)
    {
        double best = 0;
        var described = new List<string>();
        foreach (var (m, k, n) in shapes)
        {
            double gflops = MeasureGemm(o, m, k, n, dtype);
            best = Math.Max(best, gflops);
            described.Add($"{m}x{k}x{n}");
        }
        return (best, string.Join(", ", described));
    }

    private static double MeasureGemm(MachineCeilingsOptions o, long m, long k, long n, torch.ScalarType dtype)
    {
        using var generator = new torch.Generator(1234);
        using var a = torch.randn([m, k], dtype, generator: generator);
        using var b = torch.randn([k, n], dtype, generator: generator);
        using var c = torch.zeros([m, n], dtype);
        double seconds = BestSecondsPerOp(o, () => c.addmm_(a, b, beta: 0, alpha: 1));
        return 2.0 * m * k * n / seconds / 1e9;
    }

    private static (double LinearGBps, double TransposedGBps, string Shape) MeasureGemv(MachineCeilingsOptions o)
    {
        long k = o.GemvK, n = o.GemvN;
        double weightBytes = (double)n * k * sizeof(float);
        using var generator = new torch.Generator(4321);
        using var x = torch.randn([1, k], torch.ScalarType.Float32, generator: generator);
        using var y = torch.zeros([1, n], torch.ScalarType.Float32);
        double linearSeconds, transposedSeconds;
        // One weight at a time, so a large one is not held twice.
        using (var weight = torch.randn([n, k], torch.ScalarType.Float32, generator: generator))
        using (var weightT = weight.t())
            linearSeconds = BestSecondsPerOp(o, () => y.addmm_(x, weightT, beta: 0, alpha: 1));
        using (var weightKn = torch.randn([k, n], torch.ScalarType.Float32, generator: generator))
            transposedSeconds = BestSecondsPerOp(o, () => y.addmm_(x, weightKn, beta: 0, alpha: 1));
        string shape = $"K={k} N={n} {MachineCeilingsResult.FormatBytes(n * k * sizeof(float))}";
        return (weightBytes / linearSeconds / 1e9, weightBytes / transposedSeconds / 1e9, shape);
    }

    /// <summary>
    /// Warms up, picks an inner iteration count so one repetition lasts at least
    /// <see cref="MachineCeilingsOptions.MinSecondsPerRepetition"/>, and returns the best seconds per operation.
    /// </summary>
    private static double BestSecondsPerOp(MachineCeilingsOptions o, Func<torch.Tensor> op)
    {
        double once = TimeIterations(op, 1); // warm-up (and first estimate)
        once = Math.Min(once, TimeIterations(op, 1));
        int iterations = o.MinSecondsPerRepetition <= 0
            ? 1
            : (int)Math.Clamp(Math.Ceiling(o.MinSecondsPerRepetition / Math.Max(once, 1e-9)), 1, 1_000_000);
        double best = double.PositiveInfinity;
        for (int r = 0; r < o.Repetitions; r++)
            best = Math.Min(best, TimeIterations(op, iterations) / iterations);
        // Guard against a timer resolution of zero on trivially small sizes.
        return Math.Max(best, 1e-9);
    }

    private static double TimeIterations(Func<torch.Tensor> op, int iterations)
    {
        // In-place ops may hand back fresh wrappers of the same tensor; a scope per repetition releases them
        // without touching the preallocated buffers (created outside it).
        using var scope = torch.NewDisposeScope();
        var stopwatch = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++)
            op();
        return stopwatch.Elapsed.TotalSeconds;
    }
}
