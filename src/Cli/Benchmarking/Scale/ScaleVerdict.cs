namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>One thing the rehearsal must show; the command exits 1 when any fails.</summary>
public sealed record ScaleVerdict(string Name, bool Passed, string Detail);
