using System.CommandLine;
using static TorchSharp.torch;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Options;

/// <summary>
/// <c>--prefill-dtype</c> and <c>--decode-dtype</c>: the dtype each stage's matrix products run in
/// (see ModelLoadOptions). "auto" (decode only) follows the checkpoint: bf16 for a bf16 checkpoint, else fp32.
/// </summary>
public static class WeightDtypeOptions
{
    private static readonly string[] Names = ["fp32", "bf16"];

    public static Option<string> Prefill() =>
        Create("--prefill-dtype", "bf16", "Dtype of prompt processing: fp32 or bf16", allowAuto: false);

    public static Option<string> Decode() =>
        Create("--decode-dtype", "auto", "Dtype of decode steps: auto (the checkpoint's: bf16 if stored in bf16, else fp32), fp32 or bf16", allowAuto: true);

    /// <summary>The dtype an option value names; null for "auto".</summary>
    public static ScalarType? Parse(string value) => value switch
    {
        "fp32" => ScalarType.Float32,
        "bf16" => ScalarType.BFloat16,
        "auto" => null,
        _ => throw new CliError($"unknown dtype '{value}'"),
    };

    private static Option<string> Create(string name, string defaultValue, string description, bool allowAuto)
    {
        string[] allowed = allowAuto ? ["auto", .. Names] : Names;
        return new Option<string>(name)
        {
            Description = description,
            HelpName = string.Join('|', allowed),
            DefaultValueFactory = _ => defaultValue,
        }.Require(allowed.Contains, $"one of {string.Join(", ", allowed)}");
    }
}
