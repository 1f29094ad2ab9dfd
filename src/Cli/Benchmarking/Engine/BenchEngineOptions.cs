namespace PdServe.Cli.Benchmarking.Engine;

/// <summary>The validated options of <c>pdserve bench engine</c>. At most one of ModelDir / ShapeName is set.</summary>
public sealed record BenchEngineOptions
{
    /// <summary>Real checkpoint to benchmark (directory exists when parsed).</summary>
    public string? ModelDir { get; init; }
    /// <summary>A <see cref="PdServe.Benchmarking.ModelShapes"/> name, benchmarked with random weights.</summary>
    public string? ShapeName { get; init; }
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>Where to write the JSON report, or null.</summary>
    public string? JsonPath { get; init; }
    /// <summary>Hidden <c>--smoke</c>: tiny sizes, for tests; the numbers mean nothing.</summary>
    public bool Smoke { get; init; }

    public TorchSharp.torch.ScalarType PrefillDtype { get; init; } = TorchSharp.torch.ScalarType.BFloat16;
    /// <summary>Null: the checkpoint's precision.</summary>
    public TorchSharp.torch.ScalarType? DecodeDtype { get; init; }

    /// <summary>
    /// Prune plan (validated against <see cref="ModelDir"/> before anything runs): prefill is measured on the prefill
    /// stage's blocks, decode on the decode stage's.
    /// </summary>
    public PdServe.Engine.Planning.PrunePlan? Plan { get; init; }

    public bool HasModel => ModelDir is not null || ShapeName is not null;
}
