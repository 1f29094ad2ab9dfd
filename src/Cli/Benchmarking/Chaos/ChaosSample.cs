namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>
/// One second of the chaos run's time series: each node process's resident memory and KV cache fill, the client's
/// requests in flight and the output tokens of the requests that completed in that second.
/// </summary>
public sealed record ChaosSample(double Seconds, string Phase, int InFlight, double OutputTokensPerSecond, IReadOnlyList<NodeSample> Nodes);

/// <summary>One node process at one sample; null fields could not be read (the process was down, /load did not answer).</summary>
public sealed record NodeSample(string Node, int Pid, double? RssMiB, double? KvUsage, int? Running, int? Waiting);
