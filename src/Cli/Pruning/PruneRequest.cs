using PdServe.Pruning.Healing;
using PdServe.Pruning.Search;

namespace PdServe.Cli.Pruning;

/// <summary>
/// What <c>pdserve prune</c> was asked to do: the files it reads and writes, the search options, its own command line
/// (for the report), and healing (<see cref="Heal"/> null: none).
/// </summary>
public sealed record PruneRequest(string ModelDir, string CalibPath, string OutPath, string? EvalPath, long? EvalTokens, string ReportDir,
    PruneOptions Options, string CommandLine)
{
    public HealingOptions? Heal { get; init; }
    /// <summary>Distillation text; null heals on the calibration text past the part the search scored.</summary>
    public string? HealDataPath { get; init; }
    /// <summary>Prompt tokens of each held-out window (the rest of the context is the scored continuation); null: the calibration's.</summary>
    public int? EvalPromptTokens { get; init; }
}
