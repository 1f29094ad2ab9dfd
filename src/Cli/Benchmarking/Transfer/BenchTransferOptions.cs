namespace PdServe.Cli.Benchmarking.Transfer;

/// <summary>The validated options of <c>pdserve bench transfer</c>.</summary>
public sealed record BenchTransferOptions
{
    /// <summary>The model shape whose KV sizes and loopback transfers are measured.</summary>
    public required string ShapeName { get; init; }
    public required IReadOnlyList<int> PromptLengths { get; init; }
    /// <summary>A prune plan whose KV policy replaces First/Last/FullLayers (and, over a shaped link, the pruned side).</summary>
    public string? PlanFile { get; init; }
    public int First { get; init; }
    public int Last { get; init; }
    /// <summary>The first N layers keep every position; all others are selected by the policy.</summary>
    public int FullLayers { get; init; }
    /// <summary>The model of the TTFT comparison; null: the default one (the shaped link's, or stories260k when present).</summary>
    public string? ModelDir { get; init; }
    public int Repetitions { get; init; }
    /// <summary>When set, only TTFT of full against pruned transfer between node processes over a link shaped to this many Mbit/s.</summary>
    public int? LinkMbit { get; init; }
}
