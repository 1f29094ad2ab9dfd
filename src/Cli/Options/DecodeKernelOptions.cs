using System.CommandLine;
using PdServe.Cli.Terminal;
using PdServe.Engine.FastPath;
using PdServe.Engine.Generation;

namespace PdServe.Cli.Options;

/// <summary>
/// <c>--decode-kernel torch|fast</c> and <c>--fast-weights auto|int8</c>: what runs decode steps, and (for the fused
/// kernel) whether it quantizes the checkpoint's own weights to int8 at load.
/// </summary>
public static class DecodeKernelOptions
{
    public static Option<string> Kernel() => new Option<string>("--decode-kernel")
    {
        Description = "What runs decode steps: fast (the fused C# step over packed weights, measured faster than torch at batch 1, 4 and 16: bench/RESULTS.md) or torch; prefill stays on torch",
        HelpName = "torch|fast",
        DefaultValueFactory = _ => "fast",
    }.Require(value => value is "torch" or "fast", "torch or fast");

    public static Option<string> Weights() => new Option<string>("--fast-weights")
    {
        Description = "The fused kernel's weights: auto (the decode dtype's, bf16 or fp32) or int8 (symmetric, per group of 64 inputs, quantized at load)",
        HelpName = "auto|int8",
        DefaultValueFactory = _ => "auto",
    }.Require(value => value is "auto" or "int8", "auto or int8");

    public static DecodeKernel ParseKernel(string value) => value == "fast" ? DecodeKernel.Fast : DecodeKernel.Torch;

    /// <exception cref="CliError">int8 weights asked for without the fused kernel, which is the only one that has them.</exception>
    public static WeightFormat? ParseWeights(string value, DecodeKernel kernel) => value switch
    {
        "int8" when kernel != DecodeKernel.Fast => throw new CliError("--fast-weights int8 needs --decode-kernel fast"),
        "int8" => WeightFormat.Int8,
        _ => null,
    };
}
