namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>The validated options of <c>pdserve bench scale</c>.</summary>
public sealed record ScaleOptions
{
    public required string ModelDirectory { get; init; }
    /// <summary>The gateway's configuration, pools as headless Service names (configs/gateway.k8s.json).</summary>
    public required string GatewayConfig { get; init; }
    /// <summary>The first three octets of the rehearsal's /24 (<see cref="ScaleNetworkPlan.ParseSubnet"/>).</summary>
    public string SubnetPrefix { get; init; } = "10.78.0";
    /// <summary>The decode pool's sizes in turn, one node added or removed at a time (1 → 3 → 1).</summary>
    public IReadOnlyList<int> DecodeSizes { get; init; } = [1, 3, 1];
    /// <summary>The prefill pool's sizes in turn, after the decode pool's (1 → 2 → 1).</summary>
    public IReadOnlyList<int> PrefillSizes { get; init; } = [1, 2, 1];
    public bool RollingRestart { get; init; } = true;
    /// <summary>Offered load: Poisson arrivals of this many requests per second, throughout.</summary>
    public double Rate { get; init; } = 4;
    public int MaxConcurrency { get; init; } = 64;
    public int InputLength { get; init; } = 128;
    public int OutputLength { get; init; } = 64;
    /// <summary>How long each pool size is held, after its change completed, to measure its throughput.</summary>
    public double PhaseSeconds { get; init; } = 30;
    /// <summary>The gateway's <c>Gateway:DnsRefreshPeriod</c> (its default, what the manifests run, is 5 s).</summary>
    public double DnsRefreshSeconds { get; init; } = 5;
    /// <summary>Between removing a node's record and its SIGTERM, as the manifests' preStop sleep (5 s).</summary>
    public double PreStopSeconds { get; init; } = 5;
    /// <summary>From the record's removal to a SIGKILL, as the manifests' terminationGracePeriodSeconds (40).</summary>
    public double TerminationGraceSeconds { get; init; } = 40;
    public int Seed { get; init; }
    public int GatewayPort { get; init; } = 8000;
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(2);
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>How long a published node may wait for its first call before the rehearsal says it never got one.</summary>
    public TimeSpan FirstCallTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public int WarmupRequests { get; init; } = 4;
}
