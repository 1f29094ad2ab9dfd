using PdServe.Pruning.Search;

namespace PdServe.Cli.Pruning;

/// <summary>What <c>pdserve prune</c> was asked to do: the files it reads and writes, the search options, and its own command line (for the report).</summary>
public sealed record PruneRequest(string ModelDir, string CalibPath, string OutPath, string? EvalPath, long? EvalTokens, string ReportDir,
    PruneOptions Options, string CommandLine);
