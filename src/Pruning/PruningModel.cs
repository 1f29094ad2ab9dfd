using PdServe.Engine;
using PdServe.Engine.Model;
using static TorchSharp.torch;

namespace PdServe.Pruning;

/// <summary>How the pruning tools load a model: every block, fp32 throughout, so a score measures the pruning and not bf16 rounding.</summary>
public static class PruningModel
{
    public static ModelLoadOptions LoadOptions { get; } = new()
    {
        PrefillDtype = ScalarType.Float32,
        DecodeDtype = ScalarType.Float32,
        // Whole-sequence passes only; the decode-step partner thread would sit idle.
        TwoThreadDecode = false,
    };

    /// <param name="overlayWeights">A healed stage's blocks, loaded over the checkpoint's.</param>
    /// <param name="int8RoundTrip">The projections as the fused decode step's int8 weights hold them (scoring <c>--fast-weights int8</c>).</param>
    public static LoadedModel Load(string directory, IProgress<double>? progress = null, string? overlayWeights = null, bool int8RoundTrip = false) =>
        LoadedModel.Load(directory, LoadOptions with { Progress = progress }, overlayWeights, int8RoundTrip);
}
