using PdServe.Cli.Cluster;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>A node of the rehearsal: its process on its own host, and its traffic as its counters show it.</summary>
public sealed class ScaleNode(NodeProcess process, VirtualHost host)
{
    public NodeProcess Process { get; } = process;
    public VirtualHost Host { get; } = host;
    public TrafficWatch Traffic { get; } = new();
    public NodeRole Role => Process.Spec.Role;
    public string Name => Process.Spec.Name;
    /// <summary>Where the gateway and this process reach it: <c>http://{host address}:{service port}</c>.</summary>
    public string Address => Process.Spec.Address;
    /// <summary>Set once its record is withdrawn: it is draining and no longer counts in its pool.</summary>
    public bool Leaving { get; set; }
}
