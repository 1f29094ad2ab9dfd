using static TorchSharp.torch;

namespace PdServe.NodeHosting;

/// <summary>What a prefill node and a decode node are both started with (`pdserve prefill`, `pdserve decode`).</summary>
public abstract record NodeOptions
{
    public required string ModelDirectory { get; init; }

    /// <summary>Prune plan file; null runs the unpruned model and moves every position in float32.</summary>
    public string? PlanPath { get; init; }

    public NodeHostSettings Host { get; init; } = new();

    /// <summary>Torch threads (a prefill node: prompts processed at once; a decode node: threads per decode step).</summary>
    public int Threads { get; init; }

    /// <summary>
    /// The most samples (n) one request may ask for: both nodes refuse more with INVALID_ARGUMENT, so a request the
    /// decode node admits is one its prefill node accepts. A decode node also never admits more than its batch holds.
    /// </summary>
    public int MaxSamples { get; init; } = 64;

    /// <summary>Dtype of prompt processing (a decode node's only in unified mode).</summary>
    public ScalarType PrefillDtype { get; init; } = ScalarType.BFloat16;

    /// <summary>The model_name label of the node's metrics: the model directory's name.</summary>
    public string ModelName => Path.GetFileName(Path.GetFullPath(ModelDirectory).TrimEnd(Path.DirectorySeparatorChar));

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public virtual void Validate()
    {
        if (Threads < 1) throw new ArgumentException($"--threads must be >= 1, got {Threads}");
        if (MaxSamples < 1) throw new ArgumentException($"the sample limit must be >= 1, got {MaxSamples}");
    }
}
