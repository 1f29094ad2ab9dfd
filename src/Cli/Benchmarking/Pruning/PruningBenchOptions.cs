namespace PdServe.Cli.Benchmarking.Pruning;

/// <summary>What <c>pdserve bench pruning</c> runs: one plan search per K_D, the stage speeds and the measured KV bytes.</summary>
public sealed record PruningBenchOptions
{
    public required string ModelDir { get; init; }
    public required string CalibPath { get; init; }
    public required string HeldoutPath { get; init; }
    public required IReadOnlyList<int> DecodeSkips { get; init; }
    public double PrefillKlBudget { get; init; } = 0.05;
    /// <summary>Healing minutes per stage model (0: no healing rows).</summary>
    public double HealMinutes { get; init; }
    public string? HealDataPath { get; init; }
    /// <summary>Prompt tokens of each held-out window; null: the model's context less 64 scored continuation tokens.</summary>
    public int? EvalPromptTokens { get; init; }
    public long? EvalTokens { get; init; }
    public int SpeedRounds { get; init; } = 3;
    /// <summary>Prompt lengths of the measured KV bytes; each request asks one token, so a context of 2,048 takes at most 2,047.</summary>
    public IReadOnlyList<int> KvPromptLengths { get; init; } = [512, 1024, 2047];
    public int Port { get; init; } = 8450;
    public int Seed { get; init; }
    /// <summary>Calibration sample shape and annealing moves of each search (prune's options; null: prune's defaults).</summary>
    public int? CalibrationPromptTokens { get; init; }
    public int? CalibrationContinuationTokens { get; init; }
    public int? Iterations { get; init; }
    /// <summary>The token-aware KV policy's kept first and last prompt positions (prune's <c>--kv-first</c>/<c>--kv-last</c>).</summary>
    public int KvFirst { get; init; } = PdServe.Cli.Options.KvWindowOptions.DefaultFirst;
    public int KvLast { get; init; } = PdServe.Cli.Options.KvWindowOptions.DefaultLast;
    /// <summary>Tiny bench engine sizes (tests only): decode is then read at batch 2, not 16.</summary>
    public bool Smoke { get; init; }
    public string OutDir { get; init; } = "bench/pruning";
    /// <summary>This command's own line, for the report.</summary>
    public string CommandLine { get; init; } = "";
}
