namespace PdServe.Cli.Cluster;

/// <summary>What a <see cref="LocalCluster"/> starts: the validated options of <c>pdserve up</c> (the chaos benchmark's cluster too).</summary>
public sealed record LocalClusterOptions
{
    /// <summary>The model directory every node and the gateway use (exists when parsed).</summary>
    public required string ModelDir { get; init; }
    public string? PlanFile { get; init; }
    /// <summary>Prefill nodes; 0 runs the decode nodes in unified mode (they prefill themselves).</summary>
    public int Prefill { get; init; } = 1;
    public int Decode { get; init; } = 1;
    public int Port { get; init; } = 8000;
    /// <summary>When set, every prefill node runs behind a veth shaped to this many Mbit/s (a <see cref="ShapedLink"/>).</summary>
    public int? LinkMbit { get; init; }
    /// <summary>How long a node may take to load before <c>up</c> gives up.</summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Print each request's spans across the gateway and the nodes as a timeline (<see cref="TraceTimeline"/>).</summary>
    public bool Trace { get; init; }
    /// <summary>Prefix reuse (prefix cache, parked conversations, KV-aware routing); off for a cold baseline.</summary>
    public bool Reuse { get; init; } = true;
    /// <summary>
    /// Arguments every decode node gets on top of the ones <c>up</c> sets (<c>--decode-kernel torch</c> to serve with torch's
    /// decode step, <c>--fast-weights int8</c>); empty leaves the nodes' defaults.
    /// </summary>
    public IReadOnlyList<string> DecodeNodeArguments { get; init; } = [];
}
