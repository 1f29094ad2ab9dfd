namespace PdServe.TestSupport;

/// <summary>
/// The YARP cluster settings of one gateway pool for tests, as the configs/ files write them but faster: 250 ms active
/// probes of /healthz over h2c, passive health on failed calls. Shared by the gateway tests (fake nodes) and the
/// node tests (real nodes behind a real gateway).
/// </summary>
public static class GatewayPoolSettings
{
    /// <param name="reactivation">How long a node that failed a call stays out of the pool.</param>
    public static Dictionary<string, string?> For(string pool, IEnumerable<string> addresses, string policy, TimeSpan reactivation)
    {
        string prefix = $"ReverseProxy:Clusters:{pool}";
        var settings = new Dictionary<string, string?>
        {
            [$"{prefix}:LoadBalancingPolicy"] = policy,
            // YARP's default, HealthyOrPanic, would send to unhealthy nodes when none is healthy; the gateway answers 503.
            [$"{prefix}:HealthCheck:AvailableDestinationsPolicy"] = "HealthyAndUnknown",
            [$"{prefix}:HealthCheck:Active:Enabled"] = "true",
            [$"{prefix}:HealthCheck:Active:Interval"] = "00:00:00.250",
            [$"{prefix}:HealthCheck:Active:Timeout"] = "00:00:01",
            [$"{prefix}:HealthCheck:Active:Policy"] = "ConsecutiveFailures",
            [$"{prefix}:HealthCheck:Active:Path"] = "/healthz",
            [$"{prefix}:HealthCheck:Passive:Enabled"] = "true",
            [$"{prefix}:HealthCheck:Passive:Policy"] = "TransportFailureRate",
            [$"{prefix}:HealthCheck:Passive:ReactivationPeriod"] = reactivation.ToString("c"),
            [$"{prefix}:HttpRequest:Version"] = "2",
            [$"{prefix}:HttpRequest:VersionPolicy"] = "RequestVersionExact",
        };
        int i = 0;
        foreach (string address in addresses) settings[$"{prefix}:Destinations:{pool}{i++}:Address"] = address;
        return settings;
    }
}
