namespace PdServe.Engine.FastPath;

/// <summary>
/// The instruction-set level a fast-path kernel runs at. Ordered: a higher value needs everything a lower one
/// needs, so a caller can always force a lower level (to compare paths, or on a CPU that downclocks under 512-bit
/// code) and get the same answer within the kernel's stated rounding.
/// </summary>
public enum KernelIsa
{
    /// <summary>Plain scalar C#: the reference every vector path is tested against, and the path on any CPU.</summary>
    Scalar = 0,

    /// <summary>Vector256 with AVX2 and FMA.</summary>
    Avx2 = 1,

    /// <summary>Vector512 with AVX-512 F and BW.</summary>
    Avx512 = 2,
}
