using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Benchmarking.Scenarios;

/// <summary>One scenario's outcome: the exact commands, and the report, or why there is none (skipped or failed).</summary>
public sealed record ScenarioRun(ServingScenario Scenario, string UpCommandLine, string ServeCommandLine, string JsonFile)
{
    public ServeBenchReport? Report { get; init; }
    public string? Skipped { get; init; }
    public string? Error { get; init; }
}
