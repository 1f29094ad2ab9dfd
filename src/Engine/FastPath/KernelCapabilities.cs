using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PdServe.Engine.FastPath;

/// <summary>
/// What this CPU can run, detected once when the type is first used (at start-up, in practice). Kernels never
/// pick a path themselves: every kernel takes a <see cref="KernelIsa"/> argument, so the choice is the caller's,
/// made once (typically <see cref="Limit"/> of a configured ceiling) and testable on one machine for every level.
/// </summary>
public static class KernelCapabilities
{
    /// <summary>The highest level this CPU supports.</summary>
    public static readonly KernelIsa Best = Detect();

    /// <summary>
    /// Whether the 256-bit AVX-VNNI dot product (u8 × s8 → s32) is there, which the activation-quantized int8
    /// kernel uses; without it that kernel runs its scalar integer form.
    /// </summary>
    public static readonly bool HasAvxVnni = AvxVnni.IsSupported;

    /// <summary>Every level this CPU can run, lowest first (for tests and benchmarks that cover each path).</summary>
    public static IReadOnlyList<KernelIsa> Supported { get; } =
        Enum.GetValues<KernelIsa>().Where(IsSupported).OrderBy(isa => isa).ToArray();

    public static bool IsSupported(KernelIsa isa) => isa switch
    {
        KernelIsa.Scalar => true,
        KernelIsa.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        // The BW extension is needed for the 16-bit widening of bf16 weights.
        KernelIsa.Avx512 => Avx512F.IsSupported && Avx512BW.IsSupported && Avx2.IsSupported && Fma.IsSupported,
        _ => false,
    };

    /// <summary>The best level this CPU supports that is not above <paramref name="ceiling"/>.</summary>
    public static KernelIsa Limit(KernelIsa ceiling) => ceiling < Best ? ceiling : Best;

    /// <summary>Throws unless this CPU runs <paramref name="isa"/>: a forced level must never fault on an illegal instruction.</summary>
    internal static void Require(KernelIsa isa)
    {
        if (!IsSupported(isa))
            throw new PlatformNotSupportedException($"this CPU cannot run the {isa} kernels (best available: {Best})");
    }

    private static KernelIsa Detect()
    {
        // Vector512.IsHardwareAccelerated is false on CPUs that lower their clock for 512-bit code; Avx2 is the
        // better default there, though Avx512 can still be forced.
        if (IsSupported(KernelIsa.Avx512) && Vector512.IsHardwareAccelerated) return KernelIsa.Avx512;
        if (IsSupported(KernelIsa.Avx2)) return KernelIsa.Avx2;
        return KernelIsa.Scalar;
    }
}
