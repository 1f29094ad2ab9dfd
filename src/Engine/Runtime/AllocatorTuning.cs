using System.Runtime.InteropServices;

namespace PdServe.Engine.Runtime;

/// <summary>
/// Keeps freed tensor memory in glibc's heap for reuse. By default glibc serves large blocks (a prompt's
/// activations are megabytes) with fresh mmap pages and returns them on free, so every such op pays page faults
/// on its output: measured here, that tripled the cost of a prefill's elementwise work. Fixing the mmap and trim
/// thresholds makes freed blocks reusable. Linux/glibc only; a no-op elsewhere.
/// </summary>
public static class AllocatorTuning
{
    private const int TrimThreshold = -1; // M_TRIM_THRESHOLD
    private const int MmapThreshold = -3; // M_MMAP_THRESHOLD
    // glibc refuses an mmap threshold above 32 MiB on 64-bit; blocks larger than that are rare (KV cache growth).
    private const int MaxMmapThreshold = 32 * 1024 * 1024;
    private const int KeepFreedBytes = int.MaxValue;

    private static int applied;

    /// <summary>Applies the tuning once per process; returns whether glibc accepted it.</summary>
    public static bool EnsureApplied()
    {
        if (Interlocked.Exchange(ref applied, 1) == 1 || !OperatingSystem.IsLinux()) return false;
        try
        {
            return mallopt(MmapThreshold, MaxMmapThreshold) == 1 & mallopt(TrimThreshold, KeepFreedBytes) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (musl, for example): run with the default allocator
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int parameter, int value);
}
