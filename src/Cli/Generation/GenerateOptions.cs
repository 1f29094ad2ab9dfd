namespace PdServe.Cli.Generation;

/// <summary>The validated options of <c>pdserve generate</c>.</summary>
public sealed record GenerateOptions
{
    public const int DefaultMaxTokens = 128;
    public const double DefaultTemperature = 0.0;

    /// <summary>Hugging Face model directory (config.json, *.safetensors, tokenizer.json). Exists when parsed.</summary>
    public required string ModelDir { get; init; }
    public required string Prompt { get; init; }
    /// <summary>Tokens to generate at most; >= 1.</summary>
    public int MaxTokens { get; init; } = DefaultMaxTokens;
    /// <summary>Sampling temperature; 0 means greedy (argmax). >= 0.</summary>
    public double Temperature { get; init; } = DefaultTemperature;
    /// <summary>Nucleus sampling mass, 0 &lt; p &lt;= 1; 1 disables it.</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>Keep only the k most likely tokens; 0 disables it.</summary>
    public int TopK { get; init; }
    /// <summary>Sampling seed; null for a nondeterministic one.</summary>
    public long? Seed { get; init; }
    /// <summary>Decoder block indices to skip (sorted, distinct, non-negative; not yet checked against the model).</summary>
    public IReadOnlyList<int> SkipBlocks { get; init; } = [];
    /// <summary>
    /// Prune plan, already checked against the model. One process runs the request, as a decode node in unified mode:
    /// the decode stage's blocks (decode_skip) process prompt and continuation; the KV policy applies only to a transfer.
    /// </summary>
    public PdServe.Engine.Planning.PrunePlan? Plan { get; init; }
    /// <summary>Print one JSON object (text, token counts, timings) instead of streaming plain text.</summary>
    public bool Json { get; init; }
    /// <summary>Torch intra-op threads, >= 1; already applied with torch.set_num_threads when the runner starts.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
    public TorchSharp.torch.ScalarType PrefillDtype { get; init; } = TorchSharp.torch.ScalarType.BFloat16;
    /// <summary>Null: the checkpoint's precision.</summary>
    public TorchSharp.torch.ScalarType? DecodeDtype { get; init; }
    public PdServe.Engine.Generation.DecodeKernel DecodeKernel { get; init; } = PdServe.Engine.Generation.DecodeKernel.Fast;
    public PdServe.Engine.FastPath.WeightFormat? FastWeights { get; init; }
}
