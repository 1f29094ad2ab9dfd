namespace PdServe.Cli.Planning;

/// <summary>
/// A prefill pool of <see cref="Nodes"/> nodes under the workload: each node's utilization ρ, the M/D/1 mean wait in
/// its queue, and the mean TTFT estimate (wait + prefill + overhead), in milliseconds.
/// </summary>
public sealed record PrefillOption(int Nodes, double Utilization, double WaitMs, double TtftMs, bool MeetsSlo);
