using PdServe.Benchmarking;

namespace PdServe.Cli.Benchmarking.Engine;

/// <summary>The model throughput of <c>pdserve bench engine</c>, with the ceilings it is judged against.</summary>
public sealed record EngineThroughputReport(
    EngineThroughputResult Measured,
    long Fp32WeightBytes,
    /// <summary>Batch-1 decode tok/s if every fp32 weight byte streamed at the copy bandwidth.</summary>
    double Fp32CopyRooflineTokensPerSecond,
    /// <summary>Batch-1 decode tok/s if every fp32 weight byte streamed at the measured fp32 GEMV bandwidth.</summary>
    double Fp32GemvRooflineTokensPerSecond,
    double DecodeBatch1OfCopyRoofline,
    double DecodeBatch1OfGemvRoofline,
    double? DecodeBatch16OverBatch1,
    double PrefillOfGemmCeiling)
{
    /// <summary>Torch against the fused kernel (model dtype and int8) per batch size, interleaved; the fastest chosen.</summary>
    public IReadOnlyList<DecodeKernelChoice> DecodeKernels { get; init; } = [];
    /// <summary>The instruction set the fused kernels run with on this machine.</summary>
    public string KernelIsa { get; init; } = "";
}
