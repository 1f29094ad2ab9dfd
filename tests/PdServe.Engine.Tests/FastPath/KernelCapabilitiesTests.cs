using System.Runtime.Intrinsics.X86;
using PdServe.Engine.FastPath;

namespace PdServe.Engine.Tests.FastPath;

public class KernelCapabilitiesTests
{
    [Fact]
    public void Detection_follows_the_hardware_and_a_ceiling_only_lowers_it()
    {
        Assert.Contains(KernelIsa.Scalar, KernelCapabilities.Supported);
        Assert.Equal(Avx2.IsSupported && Fma.IsSupported, KernelCapabilities.IsSupported(KernelIsa.Avx2));
        Assert.Equal(Avx512F.IsSupported && Avx512BW.IsSupported, KernelCapabilities.IsSupported(KernelIsa.Avx512));
        Assert.Contains(KernelCapabilities.Best, KernelCapabilities.Supported);
        Assert.Equal(KernelIsa.Scalar, KernelCapabilities.Limit(KernelIsa.Scalar));
        Assert.Equal(KernelCapabilities.Best, KernelCapabilities.Limit(KernelIsa.Avx512));
        Assert.True(KernelCapabilities.Limit(KernelIsa.Avx2) <= KernelIsa.Avx2);
        Assert.Equal(AvxVnni.IsSupported, KernelCapabilities.HasAvxVnni);
    }

    [Fact]
    public void An_isa_the_cpu_lacks_is_refused_rather_than_faulting()
    {
        foreach (KernelIsa isa in Enum.GetValues<KernelIsa>().Where(isa => !KernelCapabilities.IsSupported(isa)))
            Assert.Throws<PlatformNotSupportedException>(() => VectorKernels.Add(isa, new float[4], new float[4]));
        Assert.Throws<PlatformNotSupportedException>(() => VectorKernels.Add((KernelIsa)7, new float[4], new float[4]));
    }
}
